"""The blueprint of the pages that belong to no feature (health and readiness)."""

from flask import Blueprint

bp = Blueprint("main", __name__)
