"""The member page's two small forms: the view form (program and dates of this page) and the
next caller's search box. Each has only the fields it shows; the lookup form (forms.py), with
its nine, is what the next caller's box posts to and what checks it."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import Form

from app.lookup.fetching.scope import InvalidParameters, LookupParams
from app.lookup.forms import (
    date_field,
    identifier_field,
    program_field,
    reason_field,
    set_program_choices,
    set_reason_choices,
)

_DATE_SHAPED = re.compile(r"[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}")


class ViewForm(Form):
    """Change this page's program or dates: a GET of the same deep link, so no CSRF token."""

    program = program_field()
    start_date = date_field("Promised points from")
    end_date = date_field("Promised points until")

    def __init__(
        self, programs: Mapping[int, str], default_program: int | None, params: LookupParams
    ) -> None:
        super().__init__(
            program=str(params.program), start_date=params.start_date, end_date=params.end_date
        )
        set_program_choices(self, programs, default_program)

    def show_link_date_error(self, error: InvalidParameters, link: Mapping[str, str]) -> None:
        """A bad date of a deep link, shown on this form's own date field, value as typed."""
        field = self.start_date if error.field == "start" else self.end_date
        field.errors = [*field.errors, str(error)]
        # A date-shaped text goes back in its box to be corrected where it was typed; anything
        # else came from a link nobody here typed, and is not repeated on the page.
        for box, key in ((self.start_date, "from"), (self.end_date, "to")):
            raw = link.get(key, "")
            box.raw_data = [raw if _DATE_SHAPED.fullmatch(raw) else ""]


class NextCallerForm(FlaskForm):
    """The next caller's search box: identifier, program (and the reason when asked for),
    posted to the lookup with its CSRF token; its ids start "next-", unlike the page's own."""

    identifier = identifier_field()
    program = program_field()
    reason = reason_field()

    def __init__(self, programs: Mapping[int, str], default_program: int | None) -> None:
        super().__init__(formdata=None)
        set_program_choices(self, programs, default_program)
        set_reason_choices(self)
        for item in self:
            item.id = f"next-{item.id}"
