"""Pages that belong to no feature: the health and readiness checks, the metrics."""

from app.main import metrics_view, views  # noqa: F401 (registers the routes)
from app.main.blueprint import bp

__all__ = ["bp"]
