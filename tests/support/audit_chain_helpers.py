"""Shared by the hash-chain tests on SQLite and on PostgreSQL: write records, tamper, verify."""

from __future__ import annotations

import threading

from flask import Flask
from flask_login import login_user
from sqlalchemy import select, text

from app.audit import record_lookup
from app.audit.models import AuditRecord
from app.auth.models import StaffUser
from app.extensions import db


def write_lookups(app: Flask, username: str, count: int, clock=None, step=None) -> list[int]:
    """Write count lookups as username (moving clock by step between them); return ids."""
    with app.test_request_context("/"):
        login_user(db.session.scalar(select(StaffUser).where(StaffUser.username == username)))
        for n in range(count):
            record_lookup(
                identifier_type="mobile",
                identifier_value=f"91980000{n:04d}",
                member_id=700000000 + n,
                program_scope="all",
                outcome="found",
                upstream_ms=10 + n,
                reason="Member called",
            )
            if clock is not None and step is not None:
                clock.advance(step)
        return list(db.session.scalars(select(AuditRecord.id).order_by(AuditRecord.id)))


def write_concurrently(app: Flask, username: str, threads: int, each: int) -> None:
    """threads writers at once, each writing each lookups; they start together."""
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            start.wait()
            write_lookups(app, username, each)
        except BaseException as exc:  # noqa: BLE001 (reported by the test)
            failures.append(exc)

    workers = [threading.Thread(target=writer) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not failures, failures


def verify(app: Flask):
    """Run `flask audit verify`; return (exit code, output)."""
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    return result.exit_code, result.output


def execute(app: Flask, sql: str, **params: object) -> None:
    """Change the database behind the app's back, as someone with database access could."""
    with app.app_context():
        db.session.execute(text(sql), params)
        db.session.commit()
