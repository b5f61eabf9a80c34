"""The admin page of the upstream budget: what is left of this minute's calls."""

from __future__ import annotations

from flask import render_template

from app.auth.access import requires
from app.lookup.blueprint import bp
from app.lookup.budget.page import budget_page
from app.lookup.fetching.service import get_service


@bp.get("/admin/upstream-budget")
@requires("admin")
def upstream_budget() -> str:
    """Per API: the ceiling, the calls of the last minute, those left, and any pause."""
    return render_template("lookup/budget.html", page=budget_page(get_service().budget))
