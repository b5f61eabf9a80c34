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
    PointsNotFetched,
    RateLimited,
    UpstreamApiError,
    UpstreamMisconfigured,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
    error_class_for,
)
from app.capillary.models import (
    Balance,
    Identifier,
    MemberLookup,
    MemberRef,
    Program,
    PromisedSchedule,
    ScheduleEntry,
    TriggerEntry,
    UpstreamMessage,
)
from app.capillary.policy import DEFAULT_LIMITS, RETRY_POLICY, Limits, RetryPolicy
from app.capillary.story_models import (
    ExpiryEntry,
    ExpirySchedule,
    LedgerEvent,
    LedgerPage,
    LedgerPart,
    MemberProfile,
    ProgramTier,
)

__all__ = [
    "AccessDenied",
    "Auth",
    "Balance",
    "BasicAuth",
    "CapillaryClient",
    "CapillaryError",
    "DEFAULT_LIMITS",
    "Identifier",
    "InvalidDate",
    "InvalidProgram",
    "Limits",
    "MalformedResponse",
    "MemberLookup",
    "MemberNotFound",
    "MemberRef",
    "OAuthAuth",
    "PointsNotFetched",
    "Program",
    "PromisedSchedule",
    "RETRY_POLICY",
    "RateLimited",
    "RetryPolicy",
    "ScheduleEntry",
    "TriggerEntry",
    "UpstreamApiError",
    "UpstreamMessage",
    "UpstreamMisconfigured",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "UpstreamUnreachable",
    "error_class_for",
    "get_client",
    # The member-story reads (story_models.py).
    "ExpiryEntry",
    "ExpirySchedule",
    "LedgerEvent",
    "LedgerPage",
    "LedgerPart",
    "MemberProfile",
    "ProgramTier",
]


def get_client() -> CapillaryClient:
    """The app's client, as register_upstream() stored it."""
    return current_app.extensions["capillary"]
