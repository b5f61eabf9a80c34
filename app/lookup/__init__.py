"""The lookup feature: the search form and the member page.

The blueprint lives in blueprint.py, so the views import it from there and nothing imports
this package back; importing the views here registers their routes.
"""

from app.lookup import admin_views, history_views, views  # noqa: F401 (registers the routes)
from app.lookup.blueprint import bp

__all__ = ["bp"]
