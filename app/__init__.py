"""Points Desk: a loyalty points lookup dashboard over Capillary's loyalty API v2."""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
from flask import Flask

from app import clock as app_clock
from app import config_rules, templating
from app.clock import Clock
from app.config import Defaults

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Settings only a deployment makes: with any of them, a flask command is not development.
PRODUCTION_MARKERS = (
    "SECRET_KEY",
    "AUDIT_HASH_KEY",
    "DATABASE_URL",
    "CAPILLARY_BASE_URL",
    "CAPILLARY_SANDBOX",
)

logger = logging.getLogger(__name__)


def create_app(test_config: dict[str, Any] | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, FLASK_* env, then the test mapping.

    clock: where business time comes from (default the system clock); tests freeze one.
    """
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    # Every app this process builds reuses the templates the first one compiled.
    app.jinja_options = {**app.jinja_options, "bytecode_cache": templating.COMPILED}
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env()
    if test_config is not None:
        app.config.from_mapping(test_config)
    try:
        config_rules.normalise(app.config)
        app_clock.init_app(app, clock)
        # Read before the embedded sandbox fills CAPILLARY_BASE_URL in.
        development = app.debug or cli_development(app.config)
        register_sandbox(app, development)
        config_rules.check(app.config, development=development)
    except config_rules.ConfigError as exc:
        if "sandbox" in app.extensions:
            app.extensions["sandbox"].stop()
        if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
            # A flask command: one line saying which setting, not a traceback.
            click.echo(f"Error: {exc}", err=True)
            raise SystemExit(1) from None
        raise
    config_rules.apply_fallbacks(app.config, app.instance_path)

    register_log_redaction()
    register_proxy_fix(app)
    register_extensions(app)
    register_security_headers(app)
    register_upstream(app)
    register_lookup(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_input_checks(app)
    register_dev_account(app)
    register_cli(app)
    return app


def cli_development(config: Mapping[str, Any]) -> bool:
    """A flask command on a development checkout: FLASK_DEBUG left unset, and none of the
    settings a deployment must make (PRODUCTION_MARKERS) made. Such a command runs with the
    development fallbacks (a throwaway secret key, a SQLite database in instance/); once
    any marker is set, every production check applies, as it does under gunicorn."""
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true" or "FLASK_DEBUG" in os.environ:
        return False
    return not any(config.get(key) for key in PRODUCTION_MARKERS)


def register_log_redaction() -> None:
    """Member ids stay out of the development server's request lines."""
    from app import log_redaction

    log_redaction.install()


def register_proxy_fix(app: Flask) -> None:
    """Behind PROXY_FIX_X_FOR reverse proxies, take the client address and scheme from them."""
    hops = app.config["PROXY_FIX_X_FOR"]
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def register_extensions(app: Flask) -> None:
    """Bind the extension instances from app/extensions.py to this app."""
    from app import rate_limits
    from app.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    # Batch mode: SQLite can only ALTER a table by copying it.
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    rate_limits.configure(app.config)
    limiter.init_app(app)


def register_security_headers(app: Flask) -> None:
    """CSP and friends on every response."""
    from app.security import register_security_headers as register

    register(app)


def register_sandbox(app: Flask, development: bool) -> None:
    """No upstream configured (in development, tests, or with CAPILLARY_SANDBOX): start the
    embedded sandbox, whose address and credentials fill the unset CAPILLARY_* keys before
    the configuration is checked. Elsewhere check() refuses the missing CAPILLARY_BASE_URL."""
    config = app.config
    allowed = development or config.get("TESTING") or config.get("CAPILLARY_SANDBOX")
    if config["CAPILLARY_BASE_URL"] is not None or not allowed:
        return
    from app.sandbox.server import start_embedded

    sandbox = start_embedded(app)
    app.extensions["sandbox"] = sandbox
    logger.info("No CAPILLARY_BASE_URL set: using the embedded sandbox at %s", sandbox.url)


def register_upstream(app: Flask) -> None:
    """The Capillary client, pointed at the configured upstream (or the embedded sandbox)."""
    from app.capillary.client import CapillaryClient
    from app.capillary.hosts import describe_cluster_zone

    config = app.config
    app.extensions["capillary"] = CapillaryClient.from_config(config)
    # One line at start: which zone the legacy date fields are read in, and why.
    from_host = config.get(config_rules.CLUSTER_ZONE_FROM_HOST)
    configured = None if from_host is not None else config.get("CAPILLARY_CLUSTER_TIMEZONE")
    logger.info("%s", describe_cluster_zone(config.get("CAPILLARY_BASE_URL"), configured))


def register_lookup(app: Flask) -> None:
    """The lookup service (shared pool and cache) and the filters its pages use."""
    from app import formatting
    from app.lookup.fetching import service, slots

    service.init_app(app)
    slots.init_app(app)
    formatting.register_filters(app)


def register_blueprints(app: Flask) -> None:
    """Attach the feature blueprints."""
    from app import audit, auth
    from app.lookup import bp as lookup_bp
    from app.main import bp as main_bp

    app.register_blueprint(main_bp)
    auth.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(lookup_bp)


def register_errorhandlers(app: Flask) -> None:
    """Friendly error pages; never a stack trace."""
    from app import database_errors
    from app.error_pages import register_errorhandlers as register

    register(app)
    database_errors.register(app)


def register_input_checks(app: Flask) -> None:
    """Control characters in any query or form value are a 400 before any view runs."""
    from app import validation

    validation.register(app)


def register_dev_account(app: Flask) -> None:
    """Development only: a first account so a fresh `make run` can be signed into."""
    from app.auth import devaccount

    devaccount.register(app)


def register_cli(app: Flask) -> None:
    """Commands: `flask sandbox run` (the stand-in upstream on its own), `flask audit ...`,
    `flask capillary check` (the upstream as the desk uses it, on install day)."""
    from app.audit.cli import audit
    from app.sandbox.cli import register_cli as register_sandbox_cli
    from app.upstream_check import capillary

    register_sandbox_cli(app)
    app.cli.add_command(audit)
    app.cli.add_command(capillary)
    for name, command in app.cli.commands.items():
        if name != "db":  # `db upgrade` is what makes the tables
            _explain_missing_tables(command)


def _explain_missing_tables(command: click.Command) -> None:
    """A command run before `flask db upgrade` says so in one line, not a traceback."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _explain_missing_tables(sub)
        return
    callback = command.callback
    if callback is None:
        return

    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        from sqlalchemy.exc import OperationalError, ProgrammingError

        try:
            return callback(*args, **kwargs)
        except (OperationalError, ProgrammingError) as exc:
            text = str(exc.orig).lower()
            if "no such table" in text or ("relation" in text and "does not exist" in text):
                raise click.ClickException(
                    "The database has no tables yet: run `flask --app app db upgrade` first."
                ) from None
            raise

    command.callback = run
