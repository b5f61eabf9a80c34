"""The "summary for a ticket": the member page's key figures as plain text to paste.

Built from the page's view model, with the identifier only ever in its masked form.
"""

from __future__ import annotations

from app.formatting import (
    format_date,
    format_date_range,
    format_datetime,
    format_figure,
    format_points,
    zone_label,
)
from app.lookup.page.model import MemberPage
from app.lookup.page.story_summary import story_lines

NEXT_CONVERSIONS = 3


def ticket_summary(page: MemberPage, looked_up: str) -> str:
    """Plain text: member, masked identifier, scope, as-of (and which figures are last known),
    balances, next conversions."""
    lines = [
        f"Member: {page.member_id}",
        f"Looked up by: {looked_up}",
        f"Program: {page.scope_label}",
    ]
    params = page.params
    if params.start_date or params.end_date:
        lines.append(f"Promised points: {format_date_range(params.start_date, params.end_date)}")
    lines.append(f"As of: {format_datetime(page.as_of, seconds=True)}")
    if page.last_known is not None:
        lines.append(page.last_known.line)
    lines.append("")
    if page.balance_failed:
        lines.append("Balance: could not be fetched")
    else:
        for tile in page.tiles:
            lines.append(f"{tile.label}: {format_figure(tile.points)}")
    lines.append("")
    if page.schedule_failed:
        lines.append("Next conversions: could not be fetched")
    elif not page.timeline:
        lines.append("Next conversions: none with a date")
    else:
        lines.append("Next conversions:")
        for day in page.timeline[:NEXT_CONVERSIONS]:
            lines.append(
                f"- {format_date(day.day)} ({zone_label(day.first_at)}): "
                f"{format_points(day.total)} points"
            )
    if page.past_due:
        lines.append(
            f"Past due, not converted yet: {format_points(page.answer.past_due_points)} points "
            "(check with the program team)"
        )
    if not page.schedule_failed:
        lines.append(f"Waiting for an event (no date): {format_points(page.triggers_total)} points")
    lines.extend(story_lines(page))
    if page.failures:
        lines.append("")
        lines.append("Missing from this lookup:")
        lines.extend(f"- {notice.title}" for notice in page.failures)
    return "\n".join(lines)
