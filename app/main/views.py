"""Pages that belong to no feature: the liveness check."""

from app.main import bp


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness: answers without touching the upstream."""
    return {"status": "ok"}, 200
