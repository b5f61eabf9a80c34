"""Who the member is: the name as this staff member may see it, and each program's tier
(current, until when, and the next one), from customer details. Shown at the top of the answer
block; never logged, never in a link (the page is the only place it appears)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from app.capillary import MemberProfile
from app.formatting import days_from_today
from app.lookup.fetching.outcome import Outcome
from app.lookup.fetching.scope import LookupParams, program_name

# A tier ending within this many days is called out ("ends in 5 days").
TIER_ENDING_DAYS = 30


@dataclass(frozen=True, slots=True)
class TierLine:
    """One program's tier in words."""

    program_id: int
    program_name: str
    tier: str  # "Gold", or "no tier" when the program names none
    next_tier: str | None
    ends_on: date | None  # in the business zone
    ends_at: datetime | None
    ends_when: str | None  # "in 5 days"
    ending_soon: bool


@dataclass(frozen=True, slots=True)
class Who:
    """The member's name (or why it is not shown) and tiers, for the scope's programs."""

    name: str | None  # None: not on file, or the call failed
    full_name: bool  # the full name is shown (the staff member's role allows it)
    tiers: tuple[TierLine, ...]
    failed: bool  # the customer-details call failed: name and tier are not known
    stale: bool = False  # last-known (the call failed now)

    @property
    def tier_line(self) -> TierLine | None:
        """The first tier shown, for the ticket summary and the slip."""
        return self.tiers[0] if self.tiers else None


def display_name(first: str | None, last: str | None, *, full: bool) -> str | None:
    """'Asha R.' (first name, initial of the last), or 'Asha Rao' when full; None when the
    profile holds no name."""
    first = (first or "").strip()
    last = (last or "").strip()
    if full:
        return " ".join(part for part in (first, last) if part) or None
    if first and last:
        return f"{first} {last[0].upper()}."
    if first:
        return first
    return f"{last[0].upper()}." if last else None


def build_who(
    outcome: Outcome[MemberProfile] | None,
    params: LookupParams,
    programs: Mapping[int, str],
    *,
    full_name: bool,
    zone: tzinfo,
    today: date,
    locale: str | None = None,
) -> Who | None:
    """The name and the scope's tiers; None when customer details were not asked for."""
    if outcome is None:
        return None
    profile = outcome.value
    if not isinstance(profile, MemberProfile):
        # Failed; or a cache entry that is not customer details: never shown as the member.
        return Who(None, full_name, (), failed=True)
    scope = params.program_id
    tiers = []
    for tier in profile.tiers:
        if scope is not None and tier.program_id != scope:
            continue
        ends_at = tier.tier_expires.astimezone(zone) if tier.tier_expires else None
        days = (ends_at.date() - today).days if ends_at else None
        name = programs.get(tier.program_id) or tier.program_title
        tiers.append(
            TierLine(
                program_id=tier.program_id,
                program_name=name or program_name(programs, tier.program_id),
                tier=tier.current_tier or "no tier",
                next_tier=tier.next_tier,
                ends_on=ends_at.date() if ends_at else None,
                ends_at=ends_at,
                ends_when=days_from_today(days, locale) if days is not None else None,
                ending_soon=days is not None and 0 <= days <= TIER_ENDING_DAYS,
            )
        )
    # The configured programs first, in their configured order; then any others.
    order = {pid: index for index, pid in enumerate(programs)}
    tiers.sort(key=lambda line: (order.get(line.program_id, len(order)), line.program_id))
    return Who(
        name=display_name(profile.first_name, profile.last_name, full=full_name),
        full_name=full_name,
        tiers=tuple(tiers),
        failed=False,
        stale=outcome.stale,
    )
