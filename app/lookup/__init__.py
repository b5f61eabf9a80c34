"""The lookup feature: the search form and the member page."""

from flask import Blueprint

bp = Blueprint("lookup", __name__)

from app.lookup import views  # noqa: E402, F401
