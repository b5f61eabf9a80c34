"""The admin's view of the upstream budget: per counter (every API together, or each API)
the ceiling, each staff member's share and the reserve, the calls of the last minute and
those left, and any pause after a 429, in words ready to display."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.lookup.budget.counts import ALL, APIS, UpstreamBudget

NAMES = {
    ALL: "Every API together",
    "balance": "Points balance",
    "schedule": "Promised-points schedule",
    "customer": "Customer details (name and tier)",
    "expiry": "Points-expiry schedule",
    "ledger": "Points ledger (History)",
}


@dataclass(frozen=True, slots=True)
class ApiRow:
    """One counter's line of the table."""

    api: str
    name: str
    ceiling: str
    used: str
    left: str
    per_staff: str = "—"
    reserve: str = "—"


@dataclass(frozen=True, slots=True)
class BudgetPage:
    """Everything the admin page shows about the budget."""

    limited: bool
    rows: tuple[ApiRow, ...]
    pause: str
    counted_where: str
    reading: str


def budget_page(budget: UpstreamBudget) -> BudgetPage:
    """The figures of the budget right now."""
    usage = budget.usage()
    if usage is None or budget.limits is None:
        rows = tuple(ApiRow(api, NAMES[api], "no ceiling", "not counted", "—") for api in APIS)
        return BudgetPage(
            False,
            rows,
            "No pause: with no ceiling set, a 429 does not pause the desk.",
            "Nothing is counted: CAPILLARY_CALLS_PER_MINUTE is not set.",
            "No ceiling.",
        )
    rows = tuple(
        ApiRow(
            counter,
            NAMES[counter],
            f"{limit.ceiling} a minute",
            str(usage.used.get(counter, 0)),
            str(max(0, limit.ceiling - usage.used.get(counter, 0))),
            f"{limit.per_staff} a minute",
            f"{limit.reserve} (for staff within {limit.light} this minute)",
        )
        for counter, limit in budget.limits.items()
    )
    if budget.per_api:
        reading = "Each API has a ceiling of its own (CAPILLARY_BUDGET_PER_API)."
    else:
        reading = (
            "One ceiling for the API key's calls to every API together (the safe reading "
            "of the upstream's rate-limit page)."
        )
    if usage.paused_for > 0:
        seconds = max(1, math.ceil(usage.paused_for))
        pause = (
            f"Paused for another {seconds} s: the loyalty system answered “too many "
            "requests”. No lookup calls it until then."
        )
    else:
        pause = "Not paused."
    if not usage.shared:
        where = (
            "Counted in this server process only (RATELIMIT_STORAGE_URI is memory://): "
            "each worker has a ceiling of its own."
        )
    elif usage.reachable:
        where = "Counted in Redis (RATELIMIT_STORAGE_URI), for every worker and app server."
    else:
        where = (
            "Redis (RATELIMIT_STORAGE_URI) is not answering: until it does, each process "
            "counts its own calls against the ceiling; these are this process's."
        )
    return BudgetPage(True, rows, pause, where, reading)
