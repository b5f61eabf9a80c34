"""Landing page and liveness check."""

from flask import render_template

from app.main import bp


@bp.get("/")
def index() -> str:
    """The landing page."""
    return render_template("main/index.html")


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness: answers without touching the upstream."""
    return {"status": "ok"}, 200
