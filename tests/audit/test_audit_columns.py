"""HASHED_FIELDS (what the hash chain covers) and CSV_COLUMNS (what the export holds) stay two
lists, each tied here to AuditRecord's columns: a new column fails these tests until it is
listed, or left out below with the reason."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from app.audit.chain import HASHED_FIELDS
from app.audit.models import AuditRecord
from app.audit.views import CSV_COLUMNS

# Attribute names, as both lists are read with getattr(record, name).
COLUMNS = frozenset(attr.key for attr in inspect(AuditRecord).column_attrs)

# Per list, the columns it leaves out on purpose, and why.
LEFT_OUT = {
    "HASHED_FIELDS": {
        "id": "given by the database after the hash is made; prev_hash fixes the order",
        "prev_hash": "hashed as well, added to the payload by name in chain.record_digest",
        "record_hash": "the hash itself",
    },
    "CSV_COLUMNS": {
        "id": "a row number, shown nowhere to staff",
        "prev_hash": "the chain is checked by `flask audit verify`, not in a spreadsheet",
        "record_hash": "the chain is checked by `flask audit verify`, not in a spreadsheet",
    },
}
LISTS = {"HASHED_FIELDS": HASHED_FIELDS, "CSV_COLUMNS": CSV_COLUMNS}


def test_the_model_has_the_columns_the_lists_are_read_against():
    # Guards the reading itself: an empty or wrong COLUMNS would let the checks below pass.
    assert {"id", "at", "member_id", "identifier_hash", "record_hash"} <= COLUMNS


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_entry_is_a_column_once(name):
    listed = LISTS[name]
    assert sorted(set(listed) - COLUMNS) == []
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("name", sorted(LISTS))
def test_every_column_is_listed_or_left_out_on_purpose(name):
    left_out = LEFT_OUT[name]
    assert sorted(set(left_out) - COLUMNS) == []  # no stale reason for a column that is gone
    assert sorted(set(left_out) & set(LISTS[name])) == []
    assert sorted(COLUMNS - set(LISTS[name]) - set(left_out)) == []
