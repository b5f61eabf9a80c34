"""The audit trail's filter form (a GET form: no CSRF token, it changes nothing)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField
from wtforms.validators import NumberRange, Optional, ValidationError

from app.audit.models import KINDS, OUTCOMES


class AuditFilterForm(FlaskForm):
    """Filters shared by the audit page and its CSV export."""

    class Meta:
        csrf = False

    staff = StringField("Staff user", validators=[Optional()])
    member_id = IntegerField(
        "Member id", validators=[Optional(), NumberRange(min=0, max=2**63 - 1)]
    )
    identifier = StringField(
        "Identifier (mobile, email, ...)",
        validators=[Optional()],
        description="Hashed before searching; never stored or shown.",
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
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The end date is before the start date.")
