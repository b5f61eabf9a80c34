"""What a lookup asks for besides the member: the program scope and the date range.

These travel in the member page's deep link, so they are parsed strictly from query strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

ALL = "all"
DEFAULT = "default"
# The deep link's names for the dates, and the member page's form's names for them.
LINK_DATES = ("from", "to")
VIEW_FORM_DATES = frozenset({"start_date", "end_date"})


def latest_end_date(today: date) -> date:
    """The upstream refuses end dates more than 100 years ahead (1217)."""
    try:
        return today.replace(year=today.year + 100)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 100, day=28)


class InvalidParameters(ValueError):
    """A deep link's query string names an unknown program or an impossible date range.

    field says which date is at fault ("start" or "end"), or None for the program: a bad
    date is corrected on the member page itself, a bad program cannot be.
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class LookupParams:
    """The program scope and the optional date range.

    program is a program id, ALL, or DEFAULT (only when no default program is configured:
    then programId is omitted and the upstream uses the org's default).
    """

    program: int | str = DEFAULT
    start_date: date | None = None
    end_date: date | None = None

    @property
    def program_id(self) -> int | None:
        """The programId to send, or None for all/default."""
        return self.program if isinstance(self.program, int) else None

    @property
    def all_programs(self) -> bool:
        """Whether fetchDataForAllPrograms is true."""
        return self.program == ALL

    @property
    def audit_scope(self) -> str:
        """The scope as the audit trail writes it: a program id, "all" or "default"."""
        return str(self.program)

    def to_query(self) -> dict[str, str]:
        """Query arguments for the deep link; defaults are left out."""
        query: dict[str, str] = {}
        if self.program != DEFAULT:
            query["program"] = str(self.program)
        if self.start_date:
            query["from"] = self.start_date.isoformat()
        if self.end_date:
            query["to"] = self.end_date.isoformat()
        return query

    @classmethod
    def from_form_value(
        cls, program: str, start: date | None, end: date | None, default_program: int | None
    ) -> LookupParams:
        """Build from the form's program choice (already validated against its choices)."""
        return cls(_resolve_default(program_from_text(program), default_program), start, end)

    @classmethod
    def from_query(
        cls,
        args: Mapping[str, str],
        programs: Mapping[int, str],
        default_program: int | None,
        today: date,
    ) -> LookupParams:
        """Parse a deep link's query string, or raise InvalidParameters saying what is wrong."""
        raw_program = args.get("program", DEFAULT)
        if raw_program in (ALL, DEFAULT):
            program: int | str = raw_program
        else:
            # Length first: int() refuses strings of over 4,300 digits with a ValueError.
            if not (raw_program.isascii() and raw_program.isdigit() and len(raw_program) <= 19):
                raise InvalidParameters("The program in this link is not a program id.")
            program = int(raw_program)
            if program not in programs:
                raise InvalidParameters("The program in this link is not one Points Desk knows.")
        start = _parse_date(args.get("from"), "start")
        end = _parse_date(args.get("to"), "end")
        if start and end and start > end:
            raise InvalidParameters("The end date must be on or after the start date.", "end")
        if end and end > latest_end_date(today):
            raise InvalidParameters("The end date must be within 100 years from today.", "end")
        return cls(_resolve_default(program, default_program), start, end)

    @classmethod
    def from_link(
        cls,
        args: Mapping[str, str],
        programs: Mapping[int, str],
        default_program: int | None,
        today: date,
    ) -> tuple[LookupParams, InvalidParameters | None]:
        """Parse a member page's deep link, forgiving a bad date: the dates are dropped and
        the error returned beside the scope, for the page to show on its own date fields.
        A bad program still raises InvalidParameters: the page cannot correct it."""
        try:
            return cls.from_query(args, programs, default_program, today), None
        except InvalidParameters as exc:
            if exc.field is None:
                raise
            undated = {key: value for key, value in args.items() if key not in LINK_DATES}
            return cls.from_query(undated, programs, default_program, today), exc

    @staticmethod
    def link_query(view_form_args: Mapping[str, str]) -> dict[str, str]:
        """The member page's program/dates form, submitted as a GET, as the deep link's query
        (from/to for the dates, empty ones left out)."""
        query = {
            "program": view_form_args.get("program", ""),
            "from": view_form_args.get("start_date", ""),
            "to": view_form_args.get("end_date", ""),
        }
        return {key: value for key, value in query.items() if value}


def program_from_text(text: str) -> int | str:
    """A program scope as this app writes it (form choices, audit_scope) back to its value."""
    return text if text in (ALL, DEFAULT) else int(text)


def _resolve_default(program: int | str, default_program: int | None) -> int | str:
    # A configured default program is named explicitly upstream; DEFAULT (omit programId,
    # the upstream picks) remains only when the configuration names none.
    if program == DEFAULT and default_program is not None:
        return default_program
    return program


def _parse_date(raw: str | None, which: str) -> date | None:
    if not raw:
        return None
    try:
        if len(raw) != 10:
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidParameters(
            f"The {which} date is not a date: write it as YYYY-MM-DD.", which
        ) from exc


def program_name(programs: Mapping[int, str], program_id: int) -> str:
    """The configured name, or the id for a program the configuration does not name."""
    return programs.get(program_id, f"Program {program_id}")


def scope_label(params: LookupParams, programs: Mapping[int, str]) -> str:
    """The program scope in words."""
    if params.program == ALL:
        return "All programs"
    if params.program == DEFAULT:
        return "Default program"
    return f"{program_name(programs, int(params.program))} ({params.program})"
