"""The lookup audit trail: record_lookup() for the lookup view, and the admin pages."""

from __future__ import annotations

from app.audit.blueprint import bp
from app.audit.service import AuditUnavailable, identifier_hash, record_lookup

__all__ = ["AuditUnavailable", "bp", "identifier_hash", "record_lookup"]

from app.audit import report, views  # noqa: F401 (registers the routes)
