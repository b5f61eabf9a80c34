"""The lookup blueprint (its views register on it): every page needs an agent or above."""

from flask import Blueprint

from app.auth.access import blueprint_role

bp = Blueprint("lookup", __name__)
blueprint_role(bp, "agent")
