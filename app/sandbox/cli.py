"""`flask sandbox run`: serve the stand-in upstream in the foreground."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import click
from flask import Flask

from app.sandbox.data import ALL_MEMBERS
from app.sandbox.faults import FAULT_MODES, FAULT_TARGETS
from app.sandbox.server import SandboxServer, start_sandbox
from app.sandbox.story_data import STORY_MEMBERS


def register_cli(app: Flask) -> None:
    """Attach the `sandbox` command group to the app's CLI."""
    app.cli.add_command(sandbox_cli)


def wait_until_interrupted(server: SandboxServer) -> None:
    """Block the foreground until Ctrl-C; the server runs in its own thread."""
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        click.echo("Stopping the sandbox.")


# Tests replace this to return at once instead of blocking.
WAIT: Callable[[SandboxServer], None] = wait_until_interrupted


@click.group("sandbox")
def sandbox_cli() -> None:
    """The embedded stand-in for Capillary's loyalty API."""


@sandbox_cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=5100, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--latency-ms", default=0, show_default=True, type=click.IntRange(0), help="Delay per answer."
)
@click.option("--fault", type=click.Choice(FAULT_MODES), default=None, help="Inject a failure.")
@click.option(
    "--fault-on",
    type=click.Choice(FAULT_TARGETS),
    default=None,
    help="Limit the fault to one endpoint kind (default: all).",
)
@click.option("--oauth-ttl", default=300, show_default=True, type=click.IntRange(1))
@click.option("--verbose", is_flag=True, help="Log each request line (no query strings).")
def run_command(
    host: str,
    port: int,
    latency_ms: int,
    fault: str | None,
    fault_on: str | None,
    oauth_ttl: int,
    verbose: bool,
) -> None:
    """Serve the sandbox in the foreground and print its URL and credentials."""
    if verbose:
        logging.basicConfig(level=logging.INFO)
        logging.getLogger("app.sandbox").setLevel(logging.DEBUG)
    server = start_sandbox(
        host=host,
        port=port,
        latency=latency_ms / 1000,
        fault=fault,
        fault_on=fault_on,
        oauth_ttl=oauth_ttl,
    )
    try:
        _describe(server)
        WAIT(server)
    finally:
        server.stop()


def _describe(server: SandboxServer) -> None:
    settings = server.settings
    click.echo(f"Capillary sandbox listening on {server.url}")
    click.echo(f"  Basic auth:  username={server.username} password={server.password}")
    click.echo(f"  OAuth:       key={server.oauth_key} secret={server.oauth_secret}")
    click.echo(
        f"  Settings:    latency={settings.latency:.3f}s fault={settings.fault or 'none'} "
        f"fault_on={settings.fault_on or 'all'} oauth_ttl={settings.oauth_ttl}s"
    )
    click.echo("  Members:")
    for member in (*ALL_MEMBERS, *STORY_MEMBERS):
        click.echo(f"    {member.id}  mobile {member.mobile}  {member.shows}")
    click.echo(f"Dashboard: FLASK_CAPILLARY_BASE_URL={server.url} (Ctrl-C to stop)")
