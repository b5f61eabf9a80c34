"""A lookup from the search box: each plausible reading of the value in turn, one deadline.

Each reading that goes upstream is one lookup with its own audit record (its own kind and
identifier HMAC). The next reading is tried only when the upstream said "not found" and the
page deadline has time left; any other answer is the answer.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from app.capillary import Identifier, MemberLookup, MemberNotFound, MemberRef
from app.lookup.audited import AuditedLookup, look_up
from app.lookup.detect import Candidate
from app.lookup.fetching.scope import LookupParams
from app.lookup.fetching.service import get_service
from app.lookup.identifiers import CUSTOMER_ID


@dataclass(frozen=True, slots=True)
class Attempts:
    """The last lookup made, the reading it used, and every reading tried, in order."""

    result: AuditedLookup
    matched: Candidate
    tried: tuple[Candidate, ...]
    out_of_time: bool  # readings were left untried because the page deadline had passed
    untried: tuple[Candidate, ...] = ()  # those readings


def member_ref(candidate: Candidate, second: Identifier | None, source: str) -> MemberRef:
    """How the upstream is asked for this reading: by customer id, or by identifier(s)."""
    if candidate.kind == CUSTOMER_ID:
        return int(candidate.value)
    found = [Identifier(candidate.kind, candidate.value)]
    if second is not None:
        found.append(second)
    return MemberLookup(tuple(found), source=source)


def look_up_candidates(
    candidates: Sequence[Candidate],
    params: LookupParams,
    *,
    second: Identifier | None,
    source: str,
    reason: str | None = None,
    receipt: bool = False,
) -> Attempts:
    """Try the readings in order until one finds the member, something else goes wrong, or
    the page deadline passes. receipt: as look_up's, for the reading that finds them."""
    assert candidates, "the form gives at least one reading"
    deadline = get_service().deadline
    started = time.monotonic()
    tried: list[Candidate] = []
    result: AuditedLookup | None = None
    for index, candidate in enumerate(candidates):
        left = deadline - (time.monotonic() - started)
        if index and left <= 0:
            assert result is not None
            untried = tuple(candidates[index:])
            return Attempts(result, tried[-1], tuple(tried), out_of_time=True, untried=untried)
        tried.append(candidate)
        result = look_up(
            member_ref(candidate, second, source),
            params,
            identifier_type=candidate.kind,
            identifier_value=candidate.value,
            deadline=left,
            reason=reason,
            receipt=receipt,
        )
        if not result.recorded or not isinstance(result.error, MemberNotFound):
            break
    assert result is not None
    return Attempts(result, tried[-1], tuple(tried), out_of_time=False)
