"""The lookup form: forgiving about formatting, strict about what reaches the upstream."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from app.lookup import identifiers
from app.lookup.scope import ALL, DEFAULT, latest_end_date, today

IDENTIFIER_CHOICES = [
    SelectChoice(key, label) for key, label in identifiers.IDENTIFIER_TYPES.items()
]
SECOND_CHOICES = [SelectChoice("", "None")] + [
    choice for choice in IDENTIFIER_CHOICES if choice.value != identifiers.CUSTOMER_ID
]


class LookupForm(FlaskForm):
    """Find a member by one identifier (two for dual-eligibility orgs), program and dates."""

    identifier_type = SelectField("Identifier type", choices=IDENTIFIER_CHOICES, default="mobile")
    identifier = StringField(
        "Identifier", validators=[InputRequired("Enter an identifier."), Length(max=300)]
    )
    second_identifier_type = SelectField(
        "Second identifier type (dual eligibility)", choices=SECOND_CHOICES, default=""
    )
    # No Optional(): it would stop validation of an empty value, and an empty value with a
    # second type chosen must be an error, not a silent single-identifier lookup.
    second_identifier = StringField("Second identifier", validators=[Length(max=300)])
    program = SelectField("Program")
    start_date = DateField(
        "Pending points from",
        validators=[Optional()],
        format="%Y-%m-%d",
    )
    end_date = DateField("Pending points until", validators=[Optional()], format="%Y-%m-%d")
    submit = SubmitField("Look up")

    def __init__(self, programs: dict[int, str], default_program: int | None, **kwargs) -> None:
        super().__init__(**kwargs)
        choices = [SelectChoice(str(pid), f"{name} ({pid})") for pid, name in programs.items()]
        if default_program is None:
            choices.insert(0, SelectChoice(DEFAULT, "Default program"))
        choices.append(SelectChoice(ALL, "All programs"))
        self.program.choices = choices
        if not self.program.data:
            self.program.data = DEFAULT if default_program is None else str(default_program)
        self.cleaned_identifier: str | None = None
        self.cleaned_second: str | None = None

    def validate_identifier(self, field: StringField) -> None:
        """Clean the value for its type; the message names what is wrong."""
        try:
            self.cleaned_identifier = identifiers.clean(self.identifier_type.data, field.data)
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(f"{str(exc).capitalize()}.") from exc

    def validate_second_identifier(self, field: StringField) -> None:
        """The optional second identifier: a different type, not a customer id."""
        second_type = self.second_identifier_type.data
        typed = (field.data or "").strip()
        if not typed and not second_type:
            return
        if not second_type:
            raise ValidationError("Choose the type of the second identifier.")
        if not typed:
            raise ValidationError("Enter the second identifier, or set its type to None.")
        if self.identifier_type.data == identifiers.CUSTOMER_ID:
            raise ValidationError("A customer id lookup takes no second identifier.")
        if second_type == self.identifier_type.data:
            raise ValidationError("Choose a different type from the first identifier.")
        try:
            self.cleaned_second = identifiers.clean(second_type, field.data)
        except identifiers.InvalidIdentifier as exc:
            raise ValidationError(f"{str(exc).capitalize()}.") from exc

    def validate_end_date(self, field: DateField) -> None:
        """Start not after end; end within the upstream's 100 years."""
        end = field.data
        start = self.start_date.data
        if end is None:
            return
        if start is not None and start > end:
            raise ValidationError("The end date must be on or after the start date.")
        if end > latest_end_date(today()):
            raise ValidationError("The end date must be within 100 years from today.")
