"""/readyz while the upstream hangs: it answers from the newest verdict it has, at once,
while a probe with a short timeout of its own runs in the background."""

from __future__ import annotations

from datetime import timedelta

from app.main.readiness import get_probe
from tests.support.fault_servers import hung_server


def test_the_first_readyz_against_a_hung_upstream_says_checking_not_hang(make_app):
    with hung_server() as hung:
        app = make_app(CAPILLARY_BASE_URL=hung.url, READINESS_CACHE_SECONDS=0)
        response = app.test_client().get("/readyz")
        # Answered while the hung server still holds the probe's connection (it lets go
        # only when this block ends).
        assert hung.wait_for(1)
        assert response.status_code == 503
        assert response.json["status"] == "not ready"
        assert response.json["upstream"] == "checking"
    with app.app_context():
        assert get_probe().wait_until_idle(30)  # released: the probe ends with an error
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["upstream"] in ("UpstreamUnavailable", "UpstreamTimeout")


def test_a_stale_verdict_is_answered_while_the_new_probe_waits(make_app, upstream, clock):
    app = make_app(READINESS_CACHE_SECONDS=0)
    client = app.test_client()
    first = client.get("/readyz")
    assert first.status_code == 200

    upstream.configure(fault="slow", slow_seconds=6)  # longer than the probe's 3 s timeout
    upstream.clear_log()
    clock.advance(timedelta(seconds=30))
    second = client.get("/readyz")
    assert second.status_code == 200
    assert second.json["checked_at"] == first.json["checked_at"]  # the previous verdict
    assert second.json["age_seconds"] == 30
    assert len(upstream.request_log()) == 1  # the new probe's call, still held upstream

    with app.app_context():
        assert get_probe().wait_until_idle(30)
    third = client.get("/readyz")
    # The probe gave up after its own short timeout: not ready, said at once.
    assert third.status_code == 503
    assert third.json["upstream"] == "UpstreamTimeout"
