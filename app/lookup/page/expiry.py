"""What expires: the expiry table (date, program, points type, fixed or rolling) and the line
the answer block reads out when points expire soon ("Expiring: 200 points in Gold Club on Wed
31 Dec 2026 (IST, UTC+05:30), in 24 days"). Days count in the business zone, as the answer's."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import Decimal

from app.capillary import ExpirySchedule
from app.formatting import days_from_today
from app.lookup.fetching.outcome import Outcome
from app.lookup.fetching.scope import LookupParams, program_name
from app.lookup.page.answer import ProgramPoints
from app.lookup.page.timeline import points_type_label

ZERO = Decimal(0)
EXPIRY_TYPES = {"fixed": "Fixed date", "rolling": "Rolling"}


@dataclass(frozen=True, slots=True)
class ExpiryRow:
    """One line of the expiry table."""

    day: date  # in the business zone
    at: datetime
    program_id: int
    program_name: str
    points_type_label: str
    expiry_type: str  # "Fixed date", "Rolling", or "Not said"
    points: Decimal


@dataclass(frozen=True, slots=True)
class SoonExpiry:
    """The next expiry date within the soon window, in words an agent can read out."""

    day: date
    at: datetime
    points: Decimal
    programs: tuple[ProgramPoints, ...]
    days_away: int
    when: str  # "in 24 days"

    @property
    def cross_program(self) -> bool:
        """Whether the points are a sum over several programs (and must say so)."""
        return len(self.programs) > 1


@dataclass(frozen=True, slots=True)
class Expiry:
    """The expiry part of the member page."""

    rows: tuple[ExpiryRow, ...]
    soon: SoonExpiry | None
    soon_days: int
    failed: bool  # the call failed: expiry is not known
    unsupported: bool  # dual eligibility: the API does not work, so it was not called
    stale: bool = False

    @property
    def next_row(self) -> ExpiryRow | None:
        """The soonest expiry, whatever the window: for the ticket summary and the slip."""
        return self.rows[0] if self.rows else None

    @property
    def total(self) -> Decimal:
        """Every expiring point in the table."""
        return sum((row.points for row in self.rows), ZERO)


def build_expiry(
    outcome: Outcome[ExpirySchedule] | None,
    params: LookupParams,
    programs: Mapping[int, str],
    *,
    zone: tzinfo,
    now: datetime,
    soon_days: int,
    dual_eligibility: bool,
    locale: str | None = None,
) -> Expiry | None:
    """The table and the soon line for the scope's programs; None when not asked for."""
    if outcome is None:
        if dual_eligibility:
            return Expiry((), None, soon_days, failed=False, unsupported=True)
        return None
    schedule = outcome.value
    if not isinstance(schedule, ExpirySchedule):
        # Failed; or a cache entry that is not an expiry schedule: never shown as one.
        return Expiry((), None, soon_days, failed=True, unsupported=False)
    scope = params.program_id
    rows = []
    for entry in schedule.entries:
        if entry.expires_at <= now or (scope is not None and entry.program_id != scope):
            continue
        at = entry.expires_at.astimezone(zone)
        rows.append(
            ExpiryRow(
                day=at.date(),
                at=at,
                program_id=entry.program_id,
                program_name=program_name(programs, entry.program_id),
                points_type_label=points_type_label(entry.points_type or "not said"),
                expiry_type=EXPIRY_TYPES.get((entry.expiry_type or "").lower(), "Not said"),
                points=entry.points,
            )
        )
    # Soonest first; on the same moment, in the configured programs' order.
    order = {pid: index for index, pid in enumerate(programs)}
    rows.sort(key=lambda row: (row.at, order.get(row.program_id, len(order)), row.program_id))
    today = now.astimezone(zone).date()
    return Expiry(
        rows=tuple(rows),
        soon=_soon(rows, today, soon_days, locale),
        soon_days=soon_days,
        failed=False,
        unsupported=False,
        stale=outcome.stale,
    )


def _soon(
    rows: list[ExpiryRow], today: date, soon_days: int, locale: str | None
) -> SoonExpiry | None:
    if not rows:
        return None
    first = rows[0]
    days_away = (first.day - today).days
    if days_away > soon_days:
        return None
    same_day = [row for row in rows if row.day == first.day]
    by_program: dict[int, Decimal] = defaultdict(lambda: ZERO)
    names: dict[int, str] = {}
    for row in same_day:
        by_program[row.program_id] += row.points
        names[row.program_id] = row.program_name
    return SoonExpiry(
        day=first.day,
        at=first.at,
        points=sum(by_program.values(), ZERO),
        programs=tuple(ProgramPoints(pid, names[pid], pts) for pid, pts in by_program.items()),
        days_away=days_away,
        when=days_from_today(days_away, locale),
    )
