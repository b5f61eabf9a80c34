"""Configuration defaults: the first of the layers create_app() reads (app/config_rules.py
then normalises and checks the finished configuration)."""

from __future__ import annotations

import logging
from typing import Any

from app.capillary.policy import DEFAULT_LIMITS

# How long an agent on a call waits for a member page, whatever hangs upstream. The
# upstream's light APIs answer in well under a second; 4 s leaves room for one lost SYN
# (the connect timeout is 3.05 s) or one quick retry, and is about as long as a caller can
# be kept waiting with "one moment, please". Past it the page shows what arrived, names
# what did not, and offers the last-known figures.
PAGE_DEADLINE_SECONDS = 4.0

logger = logging.getLogger(__name__)


class Defaults:
    """Settings every deployment starts from; override in instance/config.py or FLASK_* env."""

    SECRET_KEY: str | None = None

    # Upstream. Unset base URL: the embedded sandbox is started and used.
    CAPILLARY_BASE_URL: str | None = None
    CAPILLARY_AUTH = "basic"  # "basic" or "oauth"
    CAPILLARY_USERNAME: str | None = None
    CAPILLARY_PASSWORD: str | None = None
    CAPILLARY_OAUTH_KEY: str | None = None
    CAPILLARY_OAUTH_SECRET: str | None = None
    # Basic auth's password already hashed (the md5 hex the docs tell people to type):
    # set it instead of CAPILLARY_PASSWORD.
    CAPILLARY_PASSWORD_MD5: str | None = None
    CAPILLARY_SOURCE = "INSTORE"
    # Sent as accountId on lookups: the docs make it mandatory for every source but INSTORE
    # (without it the answer is 8045), so start-up refuses such a source without it.
    CAPILLARY_ACCOUNT_ID: str | None = None
    # The org looks members up under dual eligibility: a lookup by one identifier that is not
    # the org's primary one can answer "not found" (8015) for a member who exists, and the
    # not-found words say so; and the points-expiry API does not work, so it is not called.
    CAPILLARY_DUAL_ELIGIBILITY = False
    # Program id -> display name. Empty: the sandbox's demo programs when it is embedded.
    CAPILLARY_PROGRAMS: dict[int, str] = {}
    CAPILLARY_DEFAULT_PROGRAM: int | None = None  # None: omit programId, upstream default
    # IANA zone of the upstream cluster, for the legacy date-only fields. None: the zone the
    # docs give the host's cluster (India and SG: Asia/Kolkata; EU: UTC), else UTC; the
    # zone taken is logged at start (app/capillary/hosts.py).
    CAPILLARY_CLUSTER_TIMEZONE: str | None = None
    # Seconds, bytes: the client's own defaults (app/capillary/policy.py says why each).
    CAPILLARY_CONNECT_TIMEOUT = DEFAULT_LIMITS.connect_timeout
    CAPILLARY_READ_TIMEOUT = DEFAULT_LIMITS.read_timeout
    # A call no page waits for any longer is given up with it, so a hung upstream cannot
    # hold the shared pool's threads past the page deadline (the client alone allows 15 s).
    CAPILLARY_CALL_DEADLINE = PAGE_DEADLINE_SECONDS
    CAPILLARY_RETRIES = DEFAULT_LIMITS.retries
    CAPILLARY_MAX_RESPONSE_BYTES = DEFAULT_LIMITS.max_response_bytes

    # Who the member is and what expires, on the member page: customer details (name and tier
    # per program, one call) and the points-expiry schedule (one call), in the same round as
    # the balances. Under dual eligibility Capillary's expiry API does not work: set
    # CAPILLARY_DUAL_ELIGIBILITY (above) and it is not called (the page says why).
    LOOKUP_MEMBER_DETAILS = True
    LOOKUP_EXPIRY = True
    # Roles that see the member's full name; everyone else sees the first name and the
    # initial of the last ("Asha R."). E.g. ["manager", "admin"].
    MEMBER_NAME_ROLES: list[str] = []
    # "Expiring: ..." in the answer block when points expire within this many days.
    EXPIRY_SOON_DAYS = 90
    # History (the points ledger): the window it opens on, in days (at most 60, the API's).
    HISTORY_DEFAULT_DAYS = 30

    # Presentation.
    DISPLAY_TIMEZONE: str | None = None  # e.g. "Asia/Kolkata"; None: upstream zone only
    NUMBER_LOCALE = "en_US"
    # Country code put in front of a mobile typed without one (10 digits or fewer, or with a
    # leading 0); digits only, 1 to 3 of them.
    LOOKUP_DEFAULT_COUNTRY_CODE = "91"
    # The program the lookup form starts on for staff who have made no lookup yet: "all"
    # (All programs), a program id, or None (the default program). After that, each staff
    # member's own last choice (app/lookup/recent.py).
    LOOKUP_DEFAULT_PROGRAM: str | None = None

    # The lookup fan-out: one shared pool for every page's upstream calls; the page
    # deadline after which a page renders what arrived; how long outcomes are reused.
    LOOKUP_POOL_SIZE = 32
    LOOKUP_DEADLINE = PAGE_DEADLINE_SECONDS
    LOOKUP_CACHE_SECONDS = 30.0
    LOOKUP_ERROR_CACHE_SECONDS = 5.0
    # When the upstream is out, a member fetched within this many seconds is shown with
    # their last-known figures, under a banner saying so
    # (app/lookup/fetching/last_known.py). 0: off.
    LOOKUP_STALE_MAX_SECONDS = 86400.0
    # Lookups one server process runs at once; more get a quick "busy" page, so request
    # threads stay free for /healthz even when the upstream hangs. Keep it below the
    # server's threads per worker (gunicorn.conf.py sets it to threads - 4).
    LOOKUP_MAX_CONCURRENT = 28
    # Shared cache for several app servers, e.g. "redis://127.0.0.1:6379/0"; None: in-process.
    CACHE_REDIS_URL: str | None = None
    CACHE_KEY_PREFIX = "pointsdesk:v1:"
    # How long /readyz reuses its answer about the upstream; how long it waits for a new
    # probe before answering with the previous verdict; the probe call's own timeout.
    READINESS_CACHE_SECONDS = 10.0
    READINESS_WAIT_SECONDS = 1.0
    READINESS_PROBE_TIMEOUT = 3.0
    # Where the workers of one server share the probe's verdict, in the Redis of the rate
    # limits (else the cache's), under this prefix and the host name.
    READINESS_KEY_PREFIX = "pointsdesk:readyz:"

    # Embedded sandbox (used only when CAPILLARY_BASE_URL is unset). Outside development and
    # tests it also needs CAPILLARY_SANDBOX = True, so a production server with its base URL
    # forgotten refuses to start rather than show the demo members as real balances.
    CAPILLARY_SANDBOX = False
    SANDBOX_HOST = "127.0.0.1"
    SANDBOX_PORT = 0  # 0: any free port

    # Database. None: a SQLite file in the instance folder; postgresql://... in production.
    DATABASE_URL: str | None = None
    # hide_parameters: errors and logs must not carry member ids from statement parameters.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    # Seconds to wait for a PostgreSQL server to accept a connection.
    DATABASE_CONNECT_TIMEOUT = 5
    # Pooled connections per process: one per request thread (gunicorn.conf.py sets it to
    # its threads), so no request ever waits for a connection. None: SQLAlchemy's 5 + 10.
    DATABASE_POOL_SIZE: int | None = None

    # Staff access. "local": accounts in the database (flask users ...); "proxy": the user
    # name and groups come from headers set by an SSO reverse proxy at a trusted address.
    AUTH_MODE = "local"
    AUTH_PROXY_USER_HEADER = "X-Forwarded-User"
    AUTH_PROXY_GROUPS_HEADER = "X-Forwarded-Groups"
    AUTH_PROXY_TRUSTED: list[str] = []  # proxy addresses or networks, e.g. ["10.0.0.5"]
    AUTH_PROXY_ADMIN_GROUP: str | None = None  # members of this group are admins
    AUTH_PROXY_AGENT_GROUP: str | None = None  # None: anyone the proxy signed in is an agent
    AUTH_PROXY_MANAGER_GROUP: str | None = None  # members read and export the audit trail
    PASSWORD_HASH_METHOD = "scrypt"  # noqa: S105 (a werkzeug.security method name)
    SESSION_IDLE_MINUTES = 30
    # How often each server process re-reads a signed-in staff member's account: a disabled,
    # locked or demoted account, or a revoked session, is refused within this many seconds on
    # every server (at once by the process that made the change). 0: on every request.
    AUTH_RECHECK_SECONDS = 5.0
    # Absolute lifetime of a signed-in session, busy or not.
    SESSION_MAX_HOURS = 12
    # Failed sign-ins per account, and per address (higher: a whole office may share one
    # address behind NAT), within the window. Past the account's limit that name is refused
    # until the failures age out (or `flask users unlock NAME`); past the address's limit the
    # address gets one checked attempt per LOGIN_LOCKED_ADDRESS_DELAY_SECONDS, so the right
    # password still gets in.
    LOGIN_MAX_FAILURES_PER_ACCOUNT = 5
    LOGIN_MAX_FAILURES_PER_ADDRESS = 20
    LOGIN_FAILURE_WINDOW_MINUTES = 15
    LOGIN_LOCKED_ADDRESS_DELAY_SECONDS = 10
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: True outside development and tests

    # Audit trail. Key for the HMAC of member identifiers; required outside development.
    AUDIT_HASH_KEY: str | None = None
    AUDIT_PAGE_SIZE = 50
    AUDIT_EXPORT_MAX_ROWS = 50_000
    # The retention policy: `flask audit prune` without --older-than removes records older
    # than this many days (run it from cron; nothing is removed on its own).
    AUDIT_RETENTION_DAYS = 365
    # Why staff look a member up, e.g. ["Member called", "At the till", "Complaint",
    # "Fraud check"]. Set: the lookup form asks for one and the audit record keeps it.
    # Empty: no question.
    LOOKUP_REASONS: list[str] = []

    # Staff management in the browser: how long a password-setup link works.
    STAFF_SETUP_LINK_HOURS = 24

    # Rate limits (Flask-Limiter). "redis://host:6379/0" to share counts between servers.
    RATELIMIT_STORAGE_URI = "memory://"
    # The upstream budget: at most this many calls a minute to the loyalty API, for every
    # worker and server together, counted where RATELIMIT_STORAGE_URI points (Redis for
    # several workers). None: no ceiling (and no pause after a 429). Capillary's rate-limit
    # page reads both "per API" and "per API key": by default the ceiling caps every API's
    # calls together, which never exceeds either reading.
    CAPILLARY_CALLS_PER_MINUTE: int | None = None
    # True: the ceiling applies to each API (balance, schedule) on its own; or a mapping of
    # API -> calls a minute, e.g. {"balance": 300, "schedule": 100}. Only for a brand whose
    # limits are known to be per API.
    CAPILLARY_BUDGET_PER_API: bool | dict[str, int] = False
    # Fair shares of the ceiling: calls one staff member may spend a minute (None: a
    # quarter of the ceiling, never less than one lookup's calls), and calls kept for staff
    # who have used little of the minute (None: a fifth of it); only someone whose own calls
    # this minute stay within half the reserve may draw on it.
    CAPILLARY_CALLS_PER_STAFF: int | None = None
    CAPILLARY_BUDGET_RESERVE: int | None = None
    CAPILLARY_BUDGET_KEY_PREFIX = "pointsdesk:budget:"
    LOOKUP_RATE_LIMIT = "30 per minute"
    # Member pages (deep links, program switches, refreshes) are cheaper for staff to make
    # many of, but each is a lookup by id: limited too, against enumeration.
    MEMBER_PAGE_RATE_LIMIT = "120 per minute"
    # A refresh skips the cache and costs every call of a lookup: far fewer than page views.
    REFRESH_RATE_LIMIT = "10 per minute"
    # Audit CSV exports, per manager: each reads up to AUDIT_EXPORT_MAX_ROWS records.
    AUDIT_EXPORT_RATE_LIMIT = "5 per minute;30 per hour"

    # Request bodies. Every form here is a few hundred bytes; a larger body is refused with a
    # 413 page before it is parsed, so it cannot tie up memory or a request thread.
    MAX_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    # Who may read /metrics (Prometheus): addresses or networks, comma-separated, e.g.
    # "127.0.0.1,::1,10.0.5.0/24". Anyone else gets a 404. Empty: nobody.
    METRICS_ALLOWED = "127.0.0.1,::1"

    # Behind a reverse proxy that sets X-Forwarded-For/-Proto, the number of such proxies
    # (usually 1), so sign-in throttling sees staff addresses rather than the proxy's.
    # 0: off; the header is then ignored, as anyone can send it.
    PROXY_FIX_X_FOR = 0
