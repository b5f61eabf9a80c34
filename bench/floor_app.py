"""The floor for the lookup benchmark: the least a lookup page can cost with Flask, requests
and Jinja.

One GET makes the same upstream calls as a desk lookup, all at once (the scope's balance, one
balance per configured program, the schedule, customer details with the tiers, the points-expiry
schedule), with `requests` on pooled connections, and
renders the same figures in a Jinja page. Nothing else: no sign-in, CSRF, audit record,
receipt, cache, metrics, rate limit or redirect. bench/lookup_bench.py runs it under the
repository's gunicorn.conf.py (`gunicorn -c gunicorn.conf.py bench.floor_app:app`) against the
same sandbox as the desk. Bench only: never served to staff.

Settings from the environment: FLOOR_UPSTREAM_URL, FLOOR_USERNAME, FLOOR_PASSWORD (the till
credentials, as the sandbox prints them) and FLOOR_PROGRAMS (JSON: {"id": "name"}).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import requests
from flask import Flask, abort, render_template, request
from jinja2 import DictLoader

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Member {{ member_id }}</title></head>
<body><main>
<h1>Member {{ member_id }}</h1>
<section id="balance"><h2>Points balance</h2><dl>
  <dt>Total</dt><dd id="total">{{ scope.totalPoints | points }}</dd>
  <dt>Available</dt><dd id="available">{{ scope.mainPoints | points }}</dd>
  <dt>Promised</dt><dd id="promised">{{ scope.promisedPoints | points }}</dd>
  <dt>Delayed accrual</dt><dd>{{ scope.promisedPointsBreakup.delayedAccrualPoints | points }}</dd>
  <dt>Waiting for an event</dt>
  <dd>{{ scope.promisedPointsBreakup.externalTriggerBasedPoints | points }}</dd>
</dl></section>
<section id="programs"><h2>By program</h2><table>
  <tr><th>Program</th><th>Available</th><th>Promised</th><th>Total</th></tr>
  {% for name, balance in programs %}
  <tr><th>{{ name }}</th><td>{{ balance.mainPoints | points }}</td>
  <td>{{ balance.promisedPoints | points }}</td><td>{{ balance.totalPoints | points }}</td></tr>
  {% endfor %}
</table></section>
<section id="timeline"><h2>Pending points</h2><table>
  <tr><th>Date</th><th>Points</th><th>Program</th><th>Kind</th></tr>
  {% for entry in schedule.promisedPointsScheduleList %}
  <tr><td>{{ entry.redeemableFromISO }}</td><td>{{ entry.points | points }}</td>
  <td>{{ entry.programId }}</td><td>{{ entry.pointsType }}</td></tr>
  {% endfor %}
  {% for entry in schedule.triggerBasedPointsList %}
  <tr><td>on an event</td><td>{{ entry.points | points }}</td>
  <td>{{ entry.programId }}</td><td>{{ entry.pointsType }}</td></tr>
  {% endfor %}
</table></section>
<section id="who"><h2>Member</h2><p id="name">{{ profile.profiles[0].firstName }}</p><ul>
  {% for program in profile.loyaltyProgramDetails or [] %}
  <li>{{ program.programTitle }}: {{ program.currentSlab }}</li>
  {% endfor %}
</ul></section>
<section id="expiry"><h2>Expiring</h2><table>
  {% for entry in expiry.expirySchedules or [] %}
  <tr><td>{{ entry.expiryDate }}</td><td>{{ entry.points | points }}</td>
  <td>{{ entry.programId }}</td></tr>
  {% endfor %}
</table></section>
</main></body></html>
"""

app = Flask(__name__)
# Loaded and compiled once, like the desk's templates; .html, so autoescaped as theirs are.
app.jinja_loader = DictLoader({"member.html": PAGE})
app.jinja_env.filters["points"] = lambda value: "" if value is None else f"{value:,}"

BASE = os.environ.get("FLOOR_UPSTREAM_URL", "http://127.0.0.1:1/").rstrip("/") + "/"
_user = os.environ.get("FLOOR_USERNAME", "")
_md5 = hashlib.md5(os.environ.get("FLOOR_PASSWORD", "").encode(), usedforsecurity=False)
AUTH = "Basic " + base64.b64encode(f"{_user}:{_md5.hexdigest()}".encode()).decode()
PROGRAMS = {int(k): v for k, v in json.loads(os.environ.get("FLOOR_PROGRAMS", "{}")).items()}
POOL = ThreadPoolExecutor(max_workers=32, thread_name_prefix="floor-upstream")
_local = threading.local()


def _session() -> requests.Session:
    # One pooled session per thread: connections are reused, as the desk's client does.
    if not hasattr(_local, "session"):
        _local.session = requests.Session()
        _local.session.headers["Authorization"] = AUTH
    return _local.session


def _get(endpoint: str, params: dict[str, str]) -> Any:
    response = _session().get(BASE + endpoint, params=params, timeout=10)
    response.raise_for_status()
    return json.loads(response.content, parse_float=Decimal)


@app.get("/members")
def member() -> tuple[str, int, dict[str, str]]:
    """The member's figures for ?mobile=&program=&from=&to=, every call at once."""
    mobile = request.args.get("mobile", "")
    program = request.args.get("program", "")
    if not mobile.isdigit() or not program.isdigit():
        abort(400)
    who = {"source": "INSTORE", "identifierName": "mobile", "identifierValue": mobile}
    common = {"fetchDataForAllPrograms": "false", "entityType": "CUSTOMER"}
    balances = {
        pid: POOL.submit(
            _get, "v2/customers/lookup/points/balance", {**who, **common, "programId": str(pid)}
        )
        for pid in PROGRAMS
    }
    if int(program) not in balances:
        balances[int(program)] = POOL.submit(
            _get, "v2/customers/lookup/points/balance", {**who, **common, "programId": program}
        )
    dates = {"startDate": request.args.get("from", ""), "endDate": request.args.get("to", "")}
    schedule = POOL.submit(
        _get,
        "v2/customers/lookup/promisedPointsSchedule",
        {**who, **common, "programId": program, **{k: v for k, v in dates.items() if v}},
    )
    profile = POOL.submit(_get, "v2/customers/lookup/customerDetails", {**who, "embed": "mlp"})
    expiry = POOL.submit(
        _get,
        "v2/customers/lookup/pointsExpirySchedule",
        {**who, "fetchDataForAllPrograms": "true"},
    )
    scope = balances[int(program)].result()
    page = render_template(
        "member.html",
        member_id=scope["entityId"],
        scope=scope,
        programs=[(PROGRAMS[pid], balances[pid].result()) for pid in PROGRAMS],
        schedule=schedule.result(),
        profile=profile.result(),
        expiry=expiry.result(),
    )
    # Counted as the desk counts them (X-Upstream-Calls), for the benchmark's report.
    return page, 200, {"X-Upstream-Calls": str(len(balances) + 3)}


@app.get("/healthz")
def healthz() -> str:
    """For the harness's wait for start-up."""
    return "ok"
