"""The lookup form: forgiving about formatting, strict about what reaches the upstream."""

from __future__ import annotations

import re
from collections.abc import Mapping

from flask import current_app
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError
from wtforms.widgets import TextInput

from app.clock import today
from app.lookup import detect, identifiers
from app.lookup.fetching.scope import (
    ALL,
    DEFAULT,
    InvalidParameters,
    LookupParams,
    latest_end_date,
)

KIND_CHOICES = [SelectChoice(key, label) for key, label in identifiers.IDENTIFIER_TYPES.items()]
IDENTIFIER_CHOICES = [SelectChoice(detect.AUTO, detect.AUTO_LABEL), *KIND_CHOICES]
SECOND_CHOICES = [SelectChoice("", "None")] + [
    choice for choice in KIND_CHOICES if choice.value != identifiers.CUSTOMER_ID
]
DATE_FORMAT = "%Y-%m-%d"
_DATE_SHAPED = re.compile(r"[0-9]{1,4}-[0-9]{1,2}-[0-9]{1,2}")
# A text box, not the browser's date picker: the picker shows the browser's own format
# (mm/dd/yyyy in an en-US Chromium), which no hint on the page can promise.
DATE_INPUT = {"inputmode": "numeric", "autocomplete": "off", "spellcheck": "false"}


class LookupForm(FlaskForm):
    """Find a member by one identifier (two for dual-eligibility orgs), program and dates."""

    identifier_type = SelectField(
        "Identifier type", choices=IDENTIFIER_CHOICES, default=detect.AUTO
    )
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
        "Promised points from",
        validators=[Optional()],
        format=DATE_FORMAT,
        widget=TextInput(),
        render_kw=DATE_INPUT,
    )
    end_date = DateField(
        "Promised points until",
        validators=[Optional()],
        format=DATE_FORMAT,
        widget=TextInput(),
        render_kw=DATE_INPUT,
    )
    # Asked only when LOOKUP_REASONS lists reasons (removed in __init__ otherwise).
    reason = SelectField("Reason for this lookup", choices=[], validate_choice=False)
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
        choices = [SelectChoice(str(pid), f"{name} ({pid})") for pid, name in programs.items()]
        if default_program is None:
            choices.insert(0, SelectChoice(DEFAULT, "Default program"))
        choices.append(SelectChoice(ALL, "All programs"))
        self.program.choices = choices
        if not self.program.data:
            self.program.data = DEFAULT if default_program is None else str(default_program)
        self.candidates: tuple[detect.Candidate, ...] = ()
        self.cleaned_second: str | None = None
        reasons = current_app.config.get("LOOKUP_REASONS") or []
        if reasons:
            self.reason.choices = [SelectChoice("", "Choose a reason")] + [
                SelectChoice(r, r) for r in reasons
            ]
        else:
            del self.reason

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

    def show_view(self, params: LookupParams) -> None:
        """Pre-set the program and date pickers to the member page's current view."""
        self.program.data = str(params.program)
        self.start_date.data = params.start_date
        self.end_date.data = params.end_date

    def show_link_date_error(self, error: InvalidParameters, link: Mapping[str, str]) -> None:
        """A bad date of a deep link, shown on this form's own date field, value as typed."""
        field = self.start_date if error.field == "start" else self.end_date
        field.errors = [*field.errors, str(error)]
        # A date-shaped text goes back in its box to be corrected where it was typed; anything
        # else came from a link nobody here typed, and is not repeated on the page.
        for box, key in ((self.start_date, "from"), (self.end_date, "to")):
            raw = link.get(key, "")
            box.raw_data = [raw if _DATE_SHAPED.fullmatch(raw) else ""]
