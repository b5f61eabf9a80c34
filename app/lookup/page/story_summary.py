"""The ticket summary's tier and next-expiry lines (summary.py adds them): plain text, no name
(a ticket outlives the call; the name is on the page for the agent who may see it)."""

from __future__ import annotations

from app.formatting import days_from_today, format_date, format_points, zone_label
from app.lookup.page.model import MemberPage


def story_lines(page: MemberPage) -> list[str]:
    """'Tier: Gold Club: Gold until ...; next Platinum' per program, then 'Next expiry: ...'."""
    lines: list[str] = []
    who = page.who
    if who is not None:
        if who.failed:
            lines.append("Tier: could not be fetched")
        elif not who.tiers:
            lines.append("Tier: none")
        for tier in who.tiers:
            text = f"Tier: {tier.program_name}: {tier.tier}"
            if tier.ends_on is not None and tier.ends_at is not None:
                text += f" until {format_date(tier.ends_on)} ({zone_label(tier.ends_at)})"
            text += f"; next {tier.next_tier}" if tier.next_tier else "; no higher tier"
            lines.append(text)
    expiry = page.expiry
    if expiry is not None:
        row = expiry.next_row
        if expiry.unsupported:
            lines.append("Next expiry: not available (dual eligibility)")
        elif expiry.failed:
            lines.append("Next expiry: could not be fetched")
        elif row is None:
            lines.append("Next expiry: none")
        else:
            same_day = [r for r in expiry.rows if r.day == row.day]
            points = sum((r.points for r in same_day[1:]), same_day[0].points)
            where = {r.program_name for r in same_day}
            programs = row.program_name if len(where) == 1 else f"{len(where)} programs"
            days = (row.day - page.as_of.date()).days
            lines.append(
                f"Next expiry: {format_points(points)} points in {programs} on "
                f"{format_date(row.day)} ({zone_label(row.at)}), {days_from_today(days)}"
            )
    return lines
