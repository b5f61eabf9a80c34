"""`flask capillary check --member ID`: proof on the real tenant, on install day.

Calls every API the desk uses, with the configured host, auth, source, account id and
programs, and says in plain words what came back against what the desk expects: the auth
mode accepted, the cluster's zone as the answers show it, each program known, the shapes and
codes seen, rate-limit headers, latency per call. Exits 1 on a mismatch. Never prints the
member's figures or identifiers (nor the upstream's own messages, which may echo them);
writes one audit record that the check ran, and nothing else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import click
from flask import current_app
from flask.cli import AppGroup

from app.audit.service import AuditUnavailable, record_check
from app.capillary import (
    AccessDenied,
    Balance,
    CapillaryClient,
    CapillaryError,
    Identifier,
    MemberLookup,
    MemberRef,
    PromisedSchedule,
)
from app.capillary.hosts import describe_cluster_zone
from app.capillary.models import IDENTIFIER_NAMES
from app.capillary.transport import RawResponse
from app.explanations import explain, explain_warning

capillary = AppGroup("capillary", help="Check the configured Capillary upstream.")

# Who the audit record names: no one is signed in on the command line.
ACTOR = "(command line)"


@dataclass
class Report:
    """What the check found: lines to print, and whether anything did not match."""

    lines: list[str] = field(default_factory=list)
    mismatches: int = 0
    upstream_ms: float = 0.0
    rate_limited: bool = False  # some answer carried rate-limit headers

    def ok(self, text: str) -> None:
        self.lines.append(f"  ok        {text}")

    def note(self, text: str) -> None:
        self.lines.append(f"  note      {text}")

    def mismatch(self, text: str) -> None:
        self.mismatches += 1
        self.lines.append(f"  MISMATCH  {text}")


@dataclass
class Seen:
    """The raw answers of the call being made (the client's observe hook fills it)."""

    answers: list[RawResponse] = field(default_factory=list)

    def __call__(self, raw: RawResponse) -> None:
        self.answers.append(raw)

    def take(self) -> list[RawResponse]:
        taken, self.answers = self.answers, []
        return taken


def parse_member(text: str, source: str) -> MemberRef:
    """A customer id (digits), or identifierName:value pairs separated by commas."""
    text = text.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    identifiers = []
    for part in text.split(","):
        name, colon, value = part.partition(":")
        name = name.strip()
        if not colon or not value.strip() or name not in IDENTIFIER_NAMES:
            raise click.BadParameter(
                "give a Capillary customer id, or identifierName:value (names: "
                f"{', '.join(IDENTIFIER_NAMES)}); several separated by commas",
                param_hint="--member",
            )
        identifiers.append(Identifier(name, value.strip()))
    return MemberLookup(tuple(identifiers), source=source)


@capillary.command("check")
@click.option(
    "--member",
    required=True,
    help="A test member the org names: a Capillary customer id, or identifierName:value "
    "(e.g. mobile:919800000001). Never printed.",
)
def check(member: str) -> None:
    """Call every API the desk uses and compare what comes back with what it expects."""
    config = current_app.config
    ref = parse_member(member, config["CAPILLARY_SOURCE"])
    seen = Seen()
    client = CapillaryClient.from_config(config, observe=seen)
    try:
        report = run_check(client, ref, config, seen)
    finally:
        client.close()
    for line in report.lines:
        click.echo(line)
    passed = report.mismatches == 0
    try:
        record_check(
            member=member, passed=passed, upstream_ms=round(report.upstream_ms), actor=ACTOR
        )
    except AuditUnavailable:
        click.echo("The audit trail could not take the record that this check ran.", err=True)
        raise SystemExit(2) from None
    if passed:
        click.echo("Everything Points Desk uses answered as it expects.")
        return
    click.echo(f"{report.mismatches} mismatch(es): fix these before going live.", err=True)
    raise SystemExit(1)


def run_check(
    client: CapillaryClient, member: MemberRef, config: Mapping[str, Any], seen: Seen
) -> Report:
    """Every call the desk makes, each described; the report says what did not match."""
    report = Report()
    programs: Mapping[int, str] = config["CAPILLARY_PROGRAMS"]
    auth = config["CAPILLARY_AUTH"]
    report.lines.append(f"Upstream {client.base_url} with {auth} auth")
    source = member.source if isinstance(member, MemberLookup) else None
    if source is not None:
        sends = "and its accountId" if client.account_id and source != "INSTORE" else "only"
        report.lines.append(f"Lookups send source {source} {sends}")
    report.lines.append(
        describe_cluster_zone(config.get("CAPILLARY_BASE_URL"), None)
        if not config.get("CAPILLARY_CLUSTER_TIMEZONE")
        else f"Capillary cluster time zone: {config['CAPILLARY_CLUSTER_TIMEZONE']}"
    )
    report.lines.append("")

    denied = False
    succeeded = 0
    entity_id: int | None = member if isinstance(member, int) else None

    def call(title: str, work: Callable[[], Any]) -> Any:
        nonlocal denied, succeeded
        started = time.monotonic()
        try:
            result = work()
        except CapillaryError as exc:
            result = exc
        elapsed = (time.monotonic() - started) * 1000
        report.upstream_ms += elapsed
        answers = seen.take()
        report.lines.append(title + _answered(answers, elapsed))
        _headers(report, answers)
        if isinstance(result, CapillaryError):
            denied = denied or isinstance(result, AccessDenied)
            said = f"code {result.code}, " if result.code is not None else ""
            report.mismatch(f"failed ({said}{type(result).__name__}): {explain(result)}")
            if result.request_id:
                report.note(f"request id {result.request_id}")
            return None
        succeeded += 1
        return result

    scope = config.get("CAPILLARY_DEFAULT_PROGRAM")
    forms: list[tuple[str, MemberRef]] = [("lookup" if entity_id is None else "by id", member)]
    balance = call(
        f"Balance ({forms[0][0]}, {_scope_words(scope)})",
        lambda: client.get_balance(member, program_id=scope),
    )
    if isinstance(balance, Balance):
        _balance_shape(report, balance)
        if entity_id is None:
            entity_id = balance.entity_id
            forms.append(("by id", entity_id))
    for form, ref in forms:
        all_programs = call(
            f"Balance ({form}, all programs)",
            lambda ref=ref: client.get_balance(ref, all_programs=True),
        )
        if isinstance(all_programs, Balance):
            _balance_shape(report, all_programs)
        schedule = call(
            f"Promised-points schedule ({form}, {_scope_words(scope)})",
            lambda ref=ref: client.get_schedule(ref, program_id=scope),
        )
        if isinstance(schedule, PromisedSchedule):
            _schedule_shape(report, schedule, client.cluster_timezone)
    ref = forms[-1][1]
    for program_id, name in programs.items():
        per_program = call(
            f"Balance ({forms[-1][0]}, {name} ({program_id}))",
            lambda pid=program_id: client.get_balance(ref, program_id=pid),
        )
        if isinstance(per_program, Balance):
            _balance_shape(report, per_program)

    org_programs = call("Program list (v2/organization/programs)", client.get_programs)
    if org_programs is not None:
        known = {program.program_id for program in org_programs}
        for program_id, name in programs.items():
            if program_id in known:
                report.ok(f"program {name} ({program_id}) is one of the org's programs")
            else:
                report.mismatch(f"program {name} ({program_id}) is not one of the org's programs")
        if scope is not None and scope not in known:
            report.mismatch(f"the default program {scope} is not one of the org's programs")
        if not programs:
            report.note("no programs are configured (CAPILLARY_PROGRAMS)")

    report.lines.append("")
    if not report.rate_limited:
        report.note("no answer carried rate-limit headers (the docs name none)")
    if denied:
        report.mismatch(f"auth mode {auth}: refused (see above)")
    elif succeeded:
        report.ok(f"auth mode {auth} accepted: the loyalty system answered with data")
    return report


def _scope_words(program_id: int | None) -> str:
    return "default program" if program_id is None else f"program {program_id}"


def _answered(answers: list[RawResponse], elapsed_ms: float) -> str:
    if not answers:
        return f": no answer ({elapsed_ms:.0f} ms)"
    parts = [f"HTTP {raw.status} in {raw.elapsed_ms:.0f} ms" for raw in answers]
    if len(parts) == 1:
        return f": {parts[0]}"
    return f": {', '.join(parts)} ({elapsed_ms:.0f} ms in all)"


def _headers(report: Report, answers: list[RawResponse]) -> None:
    names = {name: value for raw in answers for name, value in raw.rate_limit_headers}
    if names:
        report.rate_limited = True
        report.note("rate-limit headers: " + ", ".join(f"{k}: {v}" for k, v in names.items()))
    for raw in answers:
        _codes_in(report, raw)


def _codes_in(report: Report, raw: RawResponse) -> None:
    """The codes of an answer's warnings[] and errors[], with the desk's words (never the
    upstream's message: it may echo the member's identifier)."""
    try:
        body = json.loads(raw.body)
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    for key in ("warnings", "errors"):
        entries = body.get(key)
        for entry in entries if isinstance(entries, list) else []:
            code = entry.get("code") if isinstance(entry, dict) else None
            if isinstance(code, int) and not isinstance(code, bool):
                report.note(f"{key}[] code {code}: {explain_warning(code)}")


def _balance_shape(report: Report, balance: Balance) -> None:
    figures = {
        "totalPoints": balance.total_points,
        "mainPoints": balance.main_points,
        "promisedPoints": balance.promised_points,
        "promisedPointsBreakup.delayedAccrualPoints": balance.delayed_accrual_points,
        "promisedPointsBreakup.externalTriggerBasedPoints": balance.external_trigger_points,
    }
    missing = [name for name, value in figures.items() if value is None]
    if missing:
        report.note(
            "balance shape: figures not known (left out and not derivable): " + ", ".join(missing)
        )
    else:
        report.ok("balance shape: every figure known (as sent, or derived from the others)")


def _schedule_shape(report: Report, schedule: PromisedSchedule, cluster_zone: tzinfo) -> None:
    dated = schedule.entries
    report.ok(
        "schedule shape: read"
        + (", with dated entries" if dated else ", no dated entries")
        + (", with trigger-based entries" if schedule.triggers else "")
    )
    _zone_as_answered(report, dated, cluster_zone)


def _zone_as_answered(report: Report, entries: Any, cluster_zone: tzinfo) -> None:
    """Compare the offsets the ISO dates carry with the zone legacy dates are read in."""
    offsets: set[str] = set()
    mismatched: set[str] = set()
    for entry in entries:
        moment: datetime = entry.redeemable_from
        if moment.tzinfo is cluster_zone:
            continue  # a legacy date: read in the configured zone, says nothing
        offset = moment.utcoffset()
        expected = moment.astimezone(cluster_zone).utcoffset()
        label = _offset_words(offset)
        offsets.add(label)
        if offset != expected:
            mismatched.add(label)
    if not offsets:
        report.note("cluster zone: the answers carry no ISO dates to show it")
    elif mismatched:
        report.mismatch(
            f"cluster zone: the answers' ISO dates carry {', '.join(sorted(mismatched))}, but "
            "legacy dates are read in another zone: set CAPILLARY_CLUSTER_TIMEZONE"
        )
    else:
        report.ok(f"cluster zone: the answers' ISO dates carry {', '.join(sorted(offsets))}")


def _offset_words(offset: Any) -> str:
    if offset is None or not offset:
        return "UTC"
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"UTC{sign}{minutes // 60:02d}:{minutes % 60:02d}"
