"""The audit trail's blueprint (under /admin): every page needs a manager or above."""

from flask import Blueprint

from app.auth.access import blueprint_role

bp = Blueprint("audit", __name__, url_prefix="/admin")
blueprint_role(bp, "manager")
