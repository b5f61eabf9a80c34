"""The Capillary loyalty API v2 client: the only code in Points Desk that speaks HTTP upstream."""

from __future__ import annotations

from flask import current_app

from app.capillary.auth import Auth, BasicAuth, OAuthAuth
from app.capillary.client import CapillaryClient
from app.capillary.errors import (
    AccessDenied,
    CapillaryError,
    InvalidDate,
    InvalidProgram,
    MalformedResponse,
    MemberNotFound,
    UpstreamApiError,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
    error_class_for,
    explain,
)
from app.capillary.models import (
    Balance,
    Identifier,
    MemberLookup,
    MemberRef,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
    UpstreamMessage,
)

__all__ = [
    "AccessDenied",
    "Auth",
    "Balance",
    "BasicAuth",
    "CapillaryClient",
    "CapillaryError",
    "Identifier",
    "InvalidDate",
    "InvalidProgram",
    "MalformedResponse",
    "MemberLookup",
    "MemberNotFound",
    "MemberRef",
    "OAuthAuth",
    "PromisedSchedule",
    "ScheduleEntry",
    "TriggerEntry",
    "UpstreamApiError",
    "UpstreamMessage",
    "UpstreamMisconfigured",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "error_class_for",
    "explain",
    "get_client",
]


def get_client() -> CapillaryClient:
    """The app's client, as register_upstream() stored it."""
    return current_app.extensions["capillary"]
