"""The client and its process environment: no ~/.netrc credentials, proxies read once."""

from __future__ import annotations

import base64
import hashlib

from app.capillary import BasicAuth
from tests.support.capillary_support import fast_client

BALANCE = {
    "entityId": 1,
    "entityType": "CUSTOMER",
    "totalPoints": 1.000,
    "mainPoints": 1.000,
    "promisedPoints": 0.000,
    "promisedPointsBreakup": {"delayedAccrualPoints": 0.000, "externalTriggerBasedPoints": 0.000},
    "warnings": [],
}


def test_a_netrc_entry_for_the_upstream_never_replaces_our_credentials(
    httpserver, tmp_path, monkeypatch
):
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine localhost login intruder password stolen\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HOME", str(tmp_path))
    httpserver.expect_request("/v2/customers/1/points/balance").respond_with_json(BALANCE)
    with fast_client(httpserver.url_for("/"), BasicAuth("till", "secret")) as client:
        client.get_balance(1)
    (request, _), *_ = httpserver.log
    digest = hashlib.md5(b"secret").hexdigest()
    expected = "Basic " + base64.b64encode(f"till:{digest}".encode()).decode()
    assert request.headers["Authorization"] == expected


def test_a_proxy_from_the_environment_is_used(httpserver, monkeypatch):
    # The test server plays the proxy: an upstream host that does not resolve is reachable
    # only through it. The variable is read when the client is made, not per call.
    monkeypatch.setenv("HTTP_PROXY", httpserver.url_for("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    client = fast_client("http://upstream.invalid/", BasicAuth("till", "secret"))
    monkeypatch.delenv("HTTP_PROXY")
    httpserver.expect_request("/v2/customers/1/points/balance").respond_with_json(BALANCE)
    with client:
        assert client.get_balance(1).entity_id == 1
    (request, _), *_ = httpserver.log
    assert request.headers["Host"] == "upstream.invalid"
