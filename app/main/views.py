"""Pages that belong to no feature: liveness and readiness checks (public, no sign-in)."""

from app import clock
from app.main.blueprint import bp
from app.main.metrics_view import from_operator
from app.main.readiness import get_probe


@bp.get("/healthz")
def healthz() -> tuple[dict[str, str], int]:
    """Liveness: answers without touching the upstream, the database or the session."""
    return {"status": "ok"}, 200


@bp.get("/readyz")
def readyz() -> tuple[dict[str, object], int]:
    """Readiness: 200 when the upstream answers (checked at most every few seconds), else 503;
    why not (the upstream's error type) only for the operators' addresses."""
    verdict = get_probe().check()
    body = verdict.as_json(clock.now(), detail=from_operator())
    return body, 200 if verdict.ready else 503
