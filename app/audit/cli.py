"""`flask audit verify`, `checkpoint` and `prune`: check the hash chain, export a signed
checkpoint for keeping outside the database, apply the retention."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit import chain
from app.auth import trail
from app.dbtypes import utcnow
from app.extensions import db

audit = AppGroup("audit", help="Check, checkpoint and prune the audit trail.")


def _report_broken(verdict: chain.Verdict) -> None:
    where = f"record #{verdict.broken_id}" if verdict.broken_id is not None else "the head"
    click.echo(f"BROKEN at {where}: {verdict.problem}.", err=True)
    raise SystemExit(1)


def _check_checkpoints(path: Path) -> int:
    """Check every checkpoint line in the file against the trail; return how many held."""
    held = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        point = chain.parse_checkpoint(line)
        if point is None:
            click.echo(
                f"BROKEN at checkpoint line {number}: it is not a checkpoint signed with this "
                "desk's key (or it was altered).",
                err=True,
            )
            raise SystemExit(1)
        problem = chain.check_checkpoint(point)
        if problem is not None:
            click.echo(f"BROKEN at checkpoint line {number} ({point.at}): {problem}.", err=True)
            raise SystemExit(1)
        held += 1
    return held


@audit.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Also check the trail still holds every checkpoint in this file.",
)
def verify(checkpoint_file: Path | None) -> None:
    """Check the signed head, every record's hash and link, and the counts; name the first
    broken one (exit status 1)."""
    verdict = chain.verify()
    if verdict.unchained:
        click.echo(f"{verdict.unchained} record(s) predate the hash chain and are not covered.")
    if not verdict.intact:
        _report_broken(verdict)
    if verdict.checked == 0:
        click.echo("The audit trail is intact: no chained records yet.")
    else:
        click.echo(
            f"The audit trail is intact: {verdict.checked} record(s), "
            f"#{verdict.first_id} to #{verdict.last_id}."
        )
    if checkpoint_file is not None:
        held = _check_checkpoints(checkpoint_file)
        click.echo(f"It still holds all {held} checkpoint(s) in {checkpoint_file.name}.")


@audit.command("checkpoint")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Append the checkpoint line to this file (it is printed either way).",
)
def checkpoint(output: Path | None) -> None:
    """Print a signed checkpoint of the chain as it stands, for keeping outside the database."""
    verdict = chain.verify()
    if not verdict.intact:
        _report_broken(verdict)
    line = chain.checkpoint(utcnow()).line()
    if output is not None:
        with output.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
    click.echo(line)


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
    try:
        removed, first_kept = chain.prune(cutoff)
    except chain.PruneRefused as exc:
        click.echo(
            f"Nothing removed: the audit trail does not verify ({exc}). "
            "Run flask audit verify and look into it first.",
            err=True,
        )
        raise SystemExit(1) from None
    trail.note("audit prune", "audit trail", f"{removed} record(s) older than {days} days")
    db.session.commit()
    start = f"record #{first_kept}" if first_kept is not None else "the next record"
    click.echo(f"Removed {removed} record(s) older than {days} days; the chain starts at {start}.")
