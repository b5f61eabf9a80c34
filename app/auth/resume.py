"""Signed out mid-call: where to pick up after signing in again, kept on the server.

When the idle limit ends a session on a POST (the lookup form's Enter, a member page's
Refresh), the page it came from is worked out by the view that registered for it, and what
was typed (the identifier included) is kept in a row bound to the staff member. The fresh
session carries only a random token; signing in as the same staff member within
RESUME_SECONDS gets the page back, the typed values filled in, once. Nothing typed goes into
a URL or the cookie.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import request, session
from sqlalchemy import String, Text, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from app.dbtypes import UTCDateTime, utcnow
from app.extensions import db

logger = logging.getLogger(__name__)

SESSION_KEY = "resume"
RESUME_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class Resumable:
    """A POST endpoint's way back: the page to show, and the form fields to keep."""

    page: Callable[[], str]  # the path of the page the POST came from
    keep: tuple[str, ...] = ()


_RESUMABLE: dict[str, Resumable] = {}


def register(endpoint: str, page: Callable[[], str], keep: tuple[str, ...] = ()) -> None:
    """Let a POST endpoint be picked up again after a sign-in (called at import time)."""
    _RESUMABLE[endpoint] = Resumable(page, keep)


class ResumeDraft(db.Model):
    """What a staff member had typed when their session ended, until they sign in again."""

    __tablename__ = "resume_draft"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_username: Mapped[str] = mapped_column(String(128))
    endpoint: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)  # JSON: the kept form fields as typed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def stash(username: str) -> str | None:
    """For a registered POST ending a session: keep its typed fields, return the page to come
    back to. Call after the session was cleared (the token goes into the fresh one)."""
    resumable = _RESUMABLE.get(request.endpoint or "")
    if request.method != "POST" or resumable is None:
        return None
    page = resumable.page()
    kept = {name: request.form.get(name, "")[:300] for name in resumable.keep}
    if any(kept.values()):
        token = secrets.token_urlsafe(32)
        try:
            db.session.execute(delete(ResumeDraft).where(ResumeDraft.created_at < _oldest_valid()))
            db.session.add(
                ResumeDraft(
                    token_hash=_digest(token),
                    staff_username=username,
                    endpoint=request.endpoint or "",
                    fields=json.dumps(kept),
                )
            )
            db.session.commit()
            session[SESSION_KEY] = token
        except SQLAlchemyError:
            db.session.rollback()
            logger.warning("Could not keep the typed values over a sign-in", exc_info=True)
    return page


def carry_over() -> str | None:
    """The token of the session being renewed, read before sign-in clears it."""
    token = session.get(SESSION_KEY)
    return token if isinstance(token, str) else None


def keep_for(token: str | None) -> None:
    """Put the token into the renewed session (after sign-in)."""
    if token:
        session[SESSION_KEY] = token


def take(endpoint: str, username: str) -> dict[str, str] | None:
    """The fields kept for endpoint by this staff member's renewed session, once; else None."""
    token = session.get(SESSION_KEY)
    if not isinstance(token, str):
        return None
    draft = db.session.scalar(select(ResumeDraft).where(ResumeDraft.token_hash == _digest(token)))
    if draft is None or draft.endpoint != endpoint:
        return None
    session.pop(SESSION_KEY, None)
    db.session.delete(draft)
    db.session.commit()
    if draft.staff_username != username or draft.created_at < _oldest_valid():
        return None  # someone else signed in on this browser, or it is too old
    fields = json.loads(draft.fields)
    return {str(k): str(v) for k, v in fields.items()} if isinstance(fields, dict) else None


def _oldest_valid() -> datetime:
    return utcnow() - timedelta(seconds=RESUME_SECONDS)
