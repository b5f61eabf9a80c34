"""The audit trail's filter form.

Posted (with CSRF) so that a typed identifier never goes into a URL: the view hashes it and
redirects to a link carrying only identifier_hash. That link's query string is read back with
the same form, CSRF off (a GET changes nothing) and the identifier field left empty.
"""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from app.audit.models import KINDS, OUTCOME_WORDS, OUTCOMES, RECORD_KIND_WORDS
from app.validation import DateWithin, WholeNumberWithin

NO_REASON = "-"
DATE_FORMAT = "%Y-%m-%d"
DATE_INPUT = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}


def identifier_fields(damaged: str) -> tuple[UnboundField, UnboundField]:
    """The typed identifier and the identifier_hash links carry instead; damaged: its error."""
    # A factory, not a mixin: a mixin's fields would sort before the form's own (WTForms orders
    # fields by creation), moving them in each page's error summary.
    identifier = StringField(
        "Identifier (mobile, email, ...)",
        validators=[Optional()],
        description="Hashed before searching; never stored or shown.",
    )
    # An HMAC-SHA256 hex digest (app/audit/service.identifier_hash), never the identifier.
    identifier_hash = HiddenField(
        "Identifier hash",
        validators=[Optional(), Regexp(r"[0-9a-f]{64}\Z", flags=re.IGNORECASE, message=damaged)],
    )
    return identifier, identifier_hash


class AuditFilterForm(FlaskForm):
    """Filters shared by the audit page and its CSV export."""

    staff = StringField(
        "Staff user",
        validators=[Optional()],
        description="The start of the name is enough: ali finds alice and alina.",
    )
    member_id = IntegerField("Member id", validators=[Optional(), WholeNumberWithin(0, 2**63 - 1)])
    # The identifier filter in links is identifier_hash, never the identifier.
    identifier, identifier_hash = identifier_fields(
        "This link's identifier filter is damaged; clear it and type the identifier again."
    )
    # Dates in the zone the page shows times in (the staff member's, see app/auth/preferences).
    # Text boxes as on the lookup form, not the browser's picker (whose mm/dd/yyyy no hint
    # can promise).
    date_from = DateField(
        "From",
        validators=[Optional(), DateWithin()],
        format=DATE_FORMAT,
        widget=TextInput(),
        render_kw=DATE_INPUT,
        description="Optional. YYYY-MM-DD",
    )
    date_to = DateField(
        "To (inclusive)",
        validators=[Optional(), DateWithin()],
        format=DATE_FORMAT,
        widget=TextInput(),
        render_kw=DATE_INPUT,
        description="Optional. YYYY-MM-DD",
    )
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice("", "Any")] + [SelectChoice(o, OUTCOME_WORDS[o]) for o in OUTCOMES],
        validators=[Optional()],
    )
    kind = SelectField(
        "Kind",
        choices=[SelectChoice("", "Any")] + [SelectChoice(k, RECORD_KIND_WORDS[k]) for k in KINDS],
        validators=[Optional()],
    )
    # Choices from LOOKUP_REASONS, set by with_reasons(); "(none)" finds records without one.
    # No choice check: a link may name a reason the desk no longer offers.
    reason = SelectField(
        "Reason",
        choices=[SelectChoice("", "Any")],
        validators=[Optional(), Length(max=64)],
        validate_choice=False,
    )

    def with_reasons(self, reasons: list[str]) -> AuditFilterForm:
        """Offer the configured reasons (and any, and none) in the reason filter."""
        self.reason.choices = (
            [SelectChoice("", "Any")]
            + [SelectChoice(r, r) for r in reasons]
            + [SelectChoice(NO_REASON, "(none given)")]
        )
        return self

    def validate_date_to(self, field: DateField) -> None:
        """The end date is not before the start date."""
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")


class MemberReportForm(FlaskForm):
    """Whose report: a member id, an identifier (hashed at once), or both."""

    member_id = IntegerField("Member id", validators=[Optional(), WholeNumberWithin(1, 2**63 - 1)])
    identifier, identifier_hash = identifier_fields("This link is damaged.")

    def validate(self, extra_validators: dict | None = None) -> bool:
        """The fields' own checks, then: something to report on."""
        if not super().validate(extra_validators):
            return False
        typed = (self.identifier.data or "").strip() or (self.identifier_hash.data or "").strip()
        if self.member_id.data is None and not typed:
            self.member_id.errors = ["Enter the member id, the identifier, or both."]
            return False
        return True
