"""CapillaryClient: the upstream reads (points balance, promised-points schedule; customer
details, points-expiry schedule and points ledger for the member story)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, tzinfo
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from app.capillary import envelope, member_story, parse, story_parse
from app.capillary.auth import Auth, BasicAuth, OAuthAuth
from app.capillary.errors import CapillaryError
from app.capillary.hosts import cluster_zone_for
from app.capillary.models import (
    ENTITY_TYPES,
    IDENTIFIER_NAMES,
    Balance,
    MemberLookup,
    MemberRef,
    Program,
    PromisedSchedule,
)
from app.capillary.policy import DEFAULT_LIMITS
from app.capillary.story_models import ExpirySchedule, LedgerPage, MemberProfile
from app.capillary.transport import RawResponse, Transport

logger = logging.getLogger(__name__)

REDACTED = "[redacted]"
PROGRAMS_PATH = "v2/organization/programs"
T = TypeVar("T")


class CapillaryClient:
    """Reads a member's points from Capillary's v2 API and returns typed results."""

    def __init__(
        self,
        base_url: str,
        auth: Auth,
        *,
        cluster_timezone: tzinfo = UTC,
        connect_timeout: float = DEFAULT_LIMITS.connect_timeout,
        read_timeout: float = DEFAULT_LIMITS.read_timeout,
        deadline: float = DEFAULT_LIMITS.deadline,
        retries: int = DEFAULT_LIMITS.retries,
        max_response_bytes: int = DEFAULT_LIMITS.max_response_bytes,
        session_factory: Callable[[], requests.Session] = requests.Session,
        account_id: str | None = None,
        observe: Callable[[RawResponse], None] | None = None,
    ) -> None:
        """account_id: sent as accountId on lookups whose source is not INSTORE and that name
        none of their own (capillary-api.md 7.2). observe: sees every answer as received
        (status, headers of note, latency), for the install-day check."""
        if not base_url.startswith(("https://", "http://")):
            raise ValueError("base_url must be an http(s) URL")
        if not isinstance(auth, Auth):
            raise TypeError("auth must be a BasicAuth or OAuthAuth")
        self.base_url = base_url.rstrip("/") + "/"
        self.auth = auth
        self.cluster_timezone = cluster_timezone
        self.account_id = account_id or None
        self.observe = observe
        self._transport = Transport(
            self.base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            deadline=deadline,
            retries=retries,
            max_response_bytes=max_response_bytes,
            session_factory=session_factory,
        )

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        *,
        observe: Callable[[RawResponse], None] | None = None,
    ) -> CapillaryClient:
        """Build a client from the app's CAPILLARY_* settings."""
        base_url = config.get("CAPILLARY_BASE_URL")
        if not base_url:
            raise ValueError("CAPILLARY_BASE_URL is not set")
        mode = str(config.get("CAPILLARY_AUTH") or "basic").lower()
        if mode == "basic" and config.get("CAPILLARY_PASSWORD_MD5"):
            # The docs also tell people to type the password's MD5 itself: use it as is.
            auth: Auth = BasicAuth.from_md5(
                _credential(config, "CAPILLARY_USERNAME"),
                str(config["CAPILLARY_PASSWORD_MD5"]),
            )
        elif mode == "basic":
            auth = BasicAuth(
                _credential(config, "CAPILLARY_USERNAME"),
                _credential(config, "CAPILLARY_PASSWORD"),
            )
        elif mode == "oauth":
            auth = OAuthAuth(
                _credential(config, "CAPILLARY_OAUTH_KEY"),
                _credential(config, "CAPILLARY_OAUTH_SECRET"),
            )
        else:
            raise ValueError("CAPILLARY_AUTH must be 'basic' or 'oauth'")
        zone_name = config.get("CAPILLARY_CLUSTER_TIMEZONE") or cluster_zone_for(base_url)[0]
        try:
            zone: tzinfo = ZoneInfo(zone_name) if zone_name else UTC
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("CAPILLARY_CLUSTER_TIMEZONE is not a known IANA time zone") from exc
        return cls(
            base_url,
            auth,
            cluster_timezone=zone,
            connect_timeout=float(
                config.get("CAPILLARY_CONNECT_TIMEOUT", DEFAULT_LIMITS.connect_timeout)
            ),
            read_timeout=float(config.get("CAPILLARY_READ_TIMEOUT", DEFAULT_LIMITS.read_timeout)),
            deadline=float(config.get("CAPILLARY_CALL_DEADLINE", DEFAULT_LIMITS.deadline)),
            retries=int(config.get("CAPILLARY_RETRIES", DEFAULT_LIMITS.retries)),
            max_response_bytes=int(
                config.get("CAPILLARY_MAX_RESPONSE_BYTES", DEFAULT_LIMITS.max_response_bytes)
            ),
            account_id=str(config.get("CAPILLARY_ACCOUNT_ID") or "") or None,
            observe=observe,
        )

    def get_balance(
        self,
        member: MemberRef,
        *,
        program_id: int | None = None,
        all_programs: bool = False,
        entity_type: str = "CUSTOMER",
    ) -> Balance:
        """GET the member's points balance (one flat object; summed when all_programs)."""
        path, label, params, secrets = _member_request(member, "points/balance", self.account_id)
        params += _common_params(program_id, all_programs, entity_type)
        body, raw = self._get(path, label, params, secrets)
        return _scrubbed(lambda: parse.parse_balance(body, raw), secrets)

    def get_schedule(
        self,
        member: MemberRef,
        *,
        program_id: int | None = None,
        all_programs: bool = False,
        entity_type: str = "CUSTOMER",
        start_date: date | None = None,
        end_date: date | None = None,
    ) -> PromisedSchedule:
        """GET the member's promised-points schedule (dated entries and trigger-based points)."""
        path, label, params, secrets = _member_request(
            member, "promisedPointsSchedule", self.account_id
        )
        params += _common_params(program_id, all_programs, entity_type)
        # Order is not checked here: the upstream's own codes (1214-1217) say what is wrong.
        for name, value in (("startDate", start_date), ("endDate", end_date)):
            if value is not None:
                params.append((name, _day(name, value)))
        body, raw = self._get(path, label, params, secrets)
        return _scrubbed(lambda: parse.parse_schedule(body, raw, self.cluster_timezone), secrets)

    def get_programs(self) -> tuple[Program, ...]:
        """GET v2/organization/programs: the org's loyalty programs."""
        body, raw = self._get(PROGRAMS_PATH, PROGRAMS_PATH, [], (), allow_list=True)
        return parse.parse_programs(body, raw)

    def get_member_profile(self, member: MemberRef) -> MemberProfile:
        """GET customer details with embed=mlp: the member's name and tier in each program."""
        lookup = _lookup_params(member, self.account_id) if isinstance(member, MemberLookup) else []
        path, label, params, secrets = member_story.customer_details(member, lookup)
        body, raw = self._get(path, label, params, secrets)
        return _scrubbed(
            lambda: story_parse.parse_profile(body, raw, self.cluster_timezone), secrets
        )

    def get_expiry_schedule(
        self, member: MemberRef, *, program_id: int | None = None, all_programs: bool = True
    ) -> ExpirySchedule:
        """GET the member's points-expiry schedule (every expiry from now, soonest first)."""
        path, label, params, secrets = _member_request(
            member, "pointsExpirySchedule", self.account_id
        )
        params += member_story.expiry_params(program_id, all_programs)
        body, raw = self._get(path, label, params, secrets)
        zone = self.cluster_timezone
        return _scrubbed(lambda: story_parse.parse_expiry(body, raw, zone), secrets)

    def get_ledger(
        self,
        member_id: int,
        *,
        start: datetime,
        end: datetime,
        offset: int = 0,
        limit: int = member_story.LEDGER_MAX_LIMIT,
        source: str = "INSTORE",
        account_id: str | None = None,
        program_id: int | None = None,
    ) -> LedgerPage:
        """GET one page of the member's points ledger within a window of at most 60 days."""
        path, label, params, secrets = member_story.ledger(
            member_id,
            source=source,
            account_id=account_id,
            start=start.astimezone(self.cluster_timezone),
            end=end.astimezone(self.cluster_timezone),
            offset=offset,
            limit=limit,
            program_id=program_id,
        )
        body, raw = self._get(path, label, params, secrets, story_parse.interpret_ledger)
        return story_parse.parse_ledger(body, raw, self.cluster_timezone)

    def close(self) -> None:
        """Close the pooled connections of every thread."""
        self._transport.close()

    def _get(
        self,
        path: str,
        label: str,
        params: list[tuple[str, str]],
        secrets: Sequence[str],
        interpret: Callable[[RawResponse], Any] | None = None,
        *,
        allow_list: bool = False,
    ) -> tuple[Any, RawResponse]:
        """One GET under one deadline, with a single fresh-credential retry after a 401."""
        transport = self._transport
        deadline_at = transport.deadline_from_now()

        def post(token_path: str, body: Mapping[str, Any]) -> RawResponse:
            return transport.send(
                "POST", token_path, label=token_path, deadline_at=deadline_at, json_body=body
            )

        def get(headers: Mapping[str, str]) -> RawResponse:
            # Retried on a "try again later" status or errors[] code, within the deadline.
            return transport.send(
                "GET",
                path,
                label=label,
                deadline_at=deadline_at,
                params=params,
                headers=headers,
                retry_if=envelope.should_retry,
            )

        def attempt() -> tuple[Any, RawResponse]:
            headers = self.auth.headers(post)
            raw = get(headers)
            if raw.status == 401 and self.auth.invalidate(headers):
                logger.info("%s: 401 with the cached credential; retrying once", label)
                raw = get(self.auth.headers(post))
            if self.observe is not None:
                self.observe(raw)
            if interpret is not None:
                return interpret(raw), raw
            return envelope.interpret(raw, allow_list=allow_list), raw

        return _scrubbed(attempt, secrets)

    def __enter__(self) -> CapillaryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CapillaryClient(base_url={self.base_url!r}, auth={self.auth!r})"


def _scrubbed(work: Callable[[], T], secrets: Sequence[str]) -> T:
    """Run work; if it raises a CapillaryError, blank any identifier value out of its text."""
    try:
        return work()
    except CapillaryError as exc:
        text = exc.message
        for secret in secrets:
            text = text.replace(secret, REDACTED)
        if text != exc.message:
            exc.message = text
            exc.args = (text,)
        raise


def _member_request(
    member: MemberRef, endpoint: str, account_id: str | None = None
) -> tuple[str, str, list[tuple[str, str]], tuple[str, ...]]:
    """Path, log label, leading query params and identifier values (to keep out of errors)."""
    if isinstance(member, MemberLookup):
        return (
            f"v2/customers/lookup/{endpoint}",
            f"lookup/{endpoint}",
            _lookup_params(member, account_id),
            tuple(ident.value for ident in member.identifiers),
        )
    if isinstance(member, bool) or not isinstance(member, int):
        raise ValueError("member must be a Capillary customer id (int) or a MemberLookup")
    if member <= 0:
        raise ValueError("a Capillary customer id is a positive integer")
    # int() first: only digits reach the path, whatever an int subclass's __str__ says.
    return f"v2/customers/{int(member)}/{endpoint}", f"customers/{{id}}/{endpoint}", [], ()


def _lookup_params(member: MemberLookup, account_id: str | None) -> list[tuple[str, str]]:
    """source, identifierName, identifierValue (comma-joined lists), accountId."""
    identifiers = member.identifiers
    if not identifiers:
        raise ValueError("a lookup takes at least one identifier (several: dual eligibility)")
    for position, ident in enumerate(identifiers, start=1):
        # Only the documented names: the upstream would answer an unknown one with 8013, and
        # the message names the position, never the name or value (either could be the value).
        if not isinstance(ident.name, str) or ident.name not in IDENTIFIER_NAMES:
            raise ValueError(
                f"identifier {position}: name must be one of {', '.join(IDENTIFIER_NAMES)}"
            )
        if not isinstance(ident.value, str) or not ident.value.strip():
            raise ValueError(f"identifier {position}: value is empty")
        if "," in ident.value:
            raise ValueError(f"identifier {position}: value must not contain a comma")
    if not isinstance(member.source, str) or not member.source:
        raise ValueError("lookup source must be a non-empty string")
    params = [
        ("source", member.source),
        ("identifierName", ",".join(ident.name for ident in identifiers)),
        ("identifierValue", ",".join(ident.value for ident in identifiers)),
    ]
    # Mandatory for every source but INSTORE ([BAL-L]; without it the answer is 8045).
    account = member.account_id
    if account is None and member.source.upper() != "INSTORE":
        account = account_id
    if account is not None:
        params.append(("accountId", str(account)))
    return params


def _common_params(
    program_id: int | None, all_programs: bool, entity_type: str
) -> list[tuple[str, str]]:
    params: list[tuple[str, str]] = []
    if program_id is not None:
        if isinstance(program_id, bool) or not isinstance(program_id, int) or program_id <= 0:
            raise ValueError("program_id must be a positive integer or None")
        params.append(("programId", str(int(program_id))))
    if not isinstance(all_programs, bool):
        raise ValueError("all_programs must be True or False")
    if not isinstance(entity_type, str) or entity_type not in ENTITY_TYPES:
        raise ValueError(f"entity_type must be one of {', '.join(ENTITY_TYPES)}")
    params.append(("fetchDataForAllPrograms", "true" if all_programs else "false"))
    params.append(("entityType", entity_type))
    return params


def _day(name: str, value: date) -> str:
    # A datetime is a date too, but its isoformat() would carry a time the API rejects (1216).
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a datetime.date")
    return value.isoformat()


def _credential(config: Mapping[str, Any], key: str) -> str:
    value = config.get(key)
    if value is None or value == "":
        # config_rules.check() already refuses this outside development and tests.
        logger.warning("%s is not set; upstream calls will be refused", key)
        return ""
    return str(value)
