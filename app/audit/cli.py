"""`flask audit verify` and `flask audit prune`: check the hash chain, apply the retention."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit import chain
from app.auth import trail
from app.dbtypes import utcnow
from app.extensions import db

audit = AppGroup("audit", help="Check and prune the audit trail.")


@audit.command("verify")
def verify() -> None:
    """Check every record's hash and link; name the first broken one (exit status 1)."""
    verdict = chain.verify()
    if verdict.unchained:
        click.echo(f"{verdict.unchained} record(s) predate the hash chain and are not covered.")
    if not verdict.intact:
        where = f"record #{verdict.broken_id}" if verdict.broken_id is not None else "the end"
        click.echo(f"BROKEN at {where}: {verdict.problem}.", err=True)
        raise SystemExit(1)
    if verdict.checked == 0:
        click.echo("The audit trail is intact: no chained records yet.")
        return
    click.echo(
        f"The audit trail is intact: {verdict.checked} record(s), "
        f"#{verdict.first_id} to #{verdict.last_id}."
    )


@audit.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=1),
    default=None,
    help="Remove records older than this many days (default AUDIT_RETENTION_DAYS).",
)
def prune(days: int | None) -> None:
    """Remove old records; the chain stays verifiable from the first kept record."""
    days = days if days is not None else current_app.config["AUDIT_RETENTION_DAYS"]
    cutoff = utcnow() - timedelta(days=days)
    removed, first_kept = chain.prune(cutoff)
    trail.note("audit prune", "audit trail", f"{removed} record(s) older than {days} days")
    db.session.commit()
    start = f"record #{first_kept}" if first_kept is not None else "the next record"
    click.echo(f"Removed {removed} record(s) older than {days} days; the chain starts at {start}.")
