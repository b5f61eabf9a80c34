"""The lookup form: forgiving about formatting, strict about what reaches the upstream."""

from __future__ import annotations

from collections.abc import Mapping

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.form import BaseForm
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from app.clock import today
from app.lookup import detect, identifiers
from app.lookup.fetching.scope import (
    ALL,
    DEFAULT,
    latest_end_date,
)

KIND_CHOICES = [SelectChoice(key, label) for key, label in identifiers.IDENTIFIER_TYPES.items()]
IDENTIFIER_CHOICES = [SelectChoice(detect.AUTO, detect.AUTO_LABEL), *KIND_CHOICES]
SECOND_CHOICES = [SelectChoice("", "None")] + [
    choice for choice in KIND_CHOICES if choice.value != identifiers.CUSTOMER_ID
]
DATE_FORMAT = "%Y-%m-%d"
# A text box, not the browser's date picker: the picker shows the browser's own format
# (mm/dd/yyyy in an en-US Chromium), which no hint on the page can promise.
DATE_INPUT = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}


def identifier_field() -> StringField:
    """The identifier box, as the lookup form and the member page's next-caller box have it."""
    return StringField(
        "Identifier", validators=[InputRequired("Enter an identifier."), Length(max=300)]
    )


def program_field() -> SelectField:
    """The program choice; its choices are set per form (program_choices)."""
    return SelectField("Program")


def date_field(label: str) -> DateField:
    """An optional date typed as YYYY-MM-DD."""
    return DateField(
        label, validators=[Optional()], format=DATE_FORMAT, widget=TextInput(), render_kw=DATE_INPUT
    )


def reason_field() -> SelectField:
    """Asked only when LOOKUP_REASONS lists reasons (set_programs_and_reasons removes it
    otherwise)."""
    return SelectField("Reason for this lookup", choices=[], validate_choice=False)


def set_program_choices(
    form: BaseForm, programs: Mapping[int, str], default_program: int | None
) -> None:
    """The configured programs (the org's default first when none is configured, then all
    programs); the form starts on the default unless it has a value already."""
    choices = [SelectChoice(str(pid), f"{name} ({pid})") for pid, name in programs.items()]
    if default_program is None:
        choices.insert(0, SelectChoice(DEFAULT, "Default program"))
    choices.append(SelectChoice(ALL, "All programs"))
    form.program.choices = choices
    if not form.program.data:
        form.program.data = DEFAULT if default_program is None else str(default_program)


def set_reason_choices(form: BaseForm) -> None:
    """The reasons LOOKUP_REASONS lists, or no reason field at all when it lists none."""
    reasons = current_app.config.get("LOOKUP_REASONS") or []
    if reasons:
        form.reason.choices = [SelectChoice("", "Choose a reason")] + [
            SelectChoice(r, r) for r in reasons
        ]
    else:
        del form.reason


class LookupForm(FlaskForm):
    """Find a member by one identifier (two for dual-eligibility orgs), program and dates."""

    identifier_type = SelectField(
        "Identifier type", choices=IDENTIFIER_CHOICES, default=detect.AUTO
    )
    identifier = identifier_field()
    second_identifier_type = SelectField(
        "Second identifier type (dual eligibility)", choices=SECOND_CHOICES, default=""
    )
    # No Optional(): it would stop validation of an empty value, and an empty value with a
    # second type chosen must be an error, not a silent single-identifier lookup.
    second_identifier = StringField("Second identifier", validators=[Length(max=300)])
    program = program_field()
    start_date = date_field("Promised points from")
    end_date = date_field("Promised points until")
    reason = reason_field()
    submit = SubmitField("Look up")

    def __init__(
        self,
        programs: dict[int, str],
        default_program: int | None,
        country_code: str = "91",
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.country_code = country_code
        set_program_choices(self, programs, default_program)
        self.candidates: tuple[detect.Candidate, ...] = ()
        self.cleaned_second: str | None = None
        set_reason_choices(self)

    def chosen_reason(self) -> str | None:
        """The reason given for the lookup; None when the desk asks for none."""
        return self.reason.data if "reason" in self else None

    def validate_reason(self, field: SelectField) -> None:
        """When reasons are asked for, one must be chosen."""
        if not field.data:
            raise ValidationError("Choose why you are looking this member up.")
        if field.data not in current_app.config["LOOKUP_REASONS"]:
            raise ValidationError("Choose one of the reasons listed.")

    @property
    def auto(self) -> bool:
        """Whether the kind is to be worked out from the value."""
        return self.identifier_type.data == detect.AUTO

    def validate_identifier(self, field: StringField) -> None:
        """Read the value as its chosen kind, or every kind it can be; the message says why not."""
        kind = self.identifier_type.data
        try:
            if kind == detect.AUTO:
                self.candidates = detect.detect(field.data or "", self.country_code)
            elif kind in identifiers.IDENTIFIER_TYPES:
                self.candidates = detect.explicit(kind, field.data or "", self.country_code)
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
        if self.auto:
            raise ValidationError("With a second identifier, choose the first one's type too.")
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
