"""The audit trail's filter form.

Posted (with CSRF) so that a typed identifier never goes into a URL: the view hashes it and
redirects to a link carrying only identifier_hash. That link's query string is read back with
the same form, CSRF off (a GET changes nothing) and the identifier field left empty.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import NumberRange, Optional, Regexp, ValidationError

from app.audit.models import KINDS, OUTCOMES


class AuditFilterForm(FlaskForm):
    """Filters shared by the audit page and its CSV export."""

    staff = StringField("Staff user", validators=[Optional()])
    member_id = IntegerField(
        "Member id", validators=[Optional(), NumberRange(min=0, max=2**63 - 1)]
    )
    identifier = StringField(
        "Identifier (mobile, email, ...)",
        validators=[Optional()],
        description="Hashed before searching; never stored or shown.",
    )
    # The identifier filter in links: an HMAC-SHA256 hex digest, never the identifier.
    identifier_hash = HiddenField(
        "Identifier hash",
        validators=[
            Optional(),
            Regexp(
                r"[0-9a-f]{64}\Z",
                flags=re.IGNORECASE,
                message="This link's identifier filter is damaged; clear it and type the "
                "identifier again.",
            ),
        ],
    )
    date_from = DateField("From (UTC)", validators=[Optional()])
    date_to = DateField("To (UTC, inclusive)", validators=[Optional()])
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Any")]
        + [SelectChoice(o, o.replace("_", " ")) for o in OUTCOMES],
        validators=[Optional()],
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any")] + [SelectChoice(k, k) for k in KINDS],
        validators=[Optional()],
    )

    def validate_date_to(self, field: DateField) -> None:
        """The end date is not before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
