"""The lookup bulkhead: a view that may wait on the upstream runs in one of the service's
lookup slots, or gets a quick "busy" page, so a hung upstream cannot hold every request thread.

The same page, with its own message and Retry-After, answers a lookup the upstream budget
refused (app/lookup/budget/counts.py): no call went out, nothing about a member is shown.
When the refusal is the staff member's own share, the words say it is theirs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import current_app, g, render_template

from app import metrics
from app.lookup.audited import OUTCOME_KEY
from app.lookup.budget.counts import BudgetExhausted
from app.lookup.fetching.slots import get_slots

logger = logging.getLogger(__name__)

BUSY_RETRY_SECONDS = 2
# The metrics' name for each bounded view's page.
PAGES = {"submit": "search", "member": "member", "refresh": "refresh", "history": "history"}


@dataclass(frozen=True, slots=True)
class TurnedAway:
    """Why a lookup was turned away before it began: the notice shown, when to come back."""

    notice: str  # the template of the message
    retry_after: int  # seconds, for the Retry-After header and the words
    words: str = ""


SLOTS_FULL = TurnedAway("lookup/_busy_notice.html", BUSY_RETRY_SECONDS)


def out_of_budget(refusal: BudgetExhausted) -> TurnedAway:
    """The page for a lookup the upstream budget refused."""
    seconds = refusal.retry_after
    if refusal.own:
        words = f"You have used your share of lookups this minute: try again in {seconds} s."
    else:
        words = f"The desk is busy: try again in {seconds} s."
    return TurnedAway("lookup/_budget_notice.html", seconds, words)


def bounded(
    view: Callable[..., Any] | None = None,
    *,
    when_busy: Callable[[TurnedAway], Any] | None = None,
) -> Any:
    """Run the view in one of the service's lookup slots, or answer a quick 503 "busy"; the
    same 503 when the upstream budget refuses the view's lookup.

    when_busy: the page to answer instead of the plain busy page (the lookup form keeps
    what was typed in it).
    """
    if view is None:
        return lambda inner: bounded(inner, when_busy=when_busy)

    name = PAGES.get(view.__name__, view.__name__)

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with get_slots().slot() as granted:
            if granted:
                try:
                    return _timed(name, view, *args, **kwargs)
                except BudgetExhausted as refusal:
                    metrics.budget_refusal()
                    if refusal.own:
                        metrics.share_refusal()
                    turned_away = out_of_budget(refusal)
        if not granted:
            logger.warning(
                "lookup turned away: all %d lookup slots busy", get_slots().max_concurrent
            )
            metrics.busy_page()
            turned_away = SLOTS_FULL
        if when_busy:
            page = when_busy(turned_away)
        else:
            page = render_template("lookup/busy.html", turned_away=turned_away), 503
        response = current_app.make_response(page)
        response.headers["Retry-After"] = str(turned_away.retry_after)
        return response

    return wrapped


def _timed(page: str, view: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run the view, counting its time in the metrics with how its lookup ended."""
    started = time.monotonic()
    try:
        return view(*args, **kwargs)
    finally:
        outcome = g.pop(OUTCOME_KEY, "none")
        metrics.observe_lookup(page, outcome, time.monotonic() - started)
