"""The lookup audit trail: record_lookup() for the lookup view, and the admin pages."""

from __future__ import annotations

from flask import Blueprint

from app.audit.service import AuditUnavailable, identifier_hash, record_lookup
from app.auth.access import require_admin

bp = Blueprint("audit", __name__, url_prefix="/admin")
# Every page of this blueprint is for admins; a view cannot be added without the check.
bp.before_request(require_admin)

__all__ = ["AuditUnavailable", "bp", "identifier_hash", "record_lookup"]

from app.audit import views  # noqa: E402, F401
