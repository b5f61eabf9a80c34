"""The documented cluster hosts and the time zone each cluster writes its legacy dates in.

[TZ-ISO] / timezone-management: legacy date fields are in the cluster's zone; the India
cluster and the SG (APAC2, South-East Asia) cluster are at +05:30, EU at UTC. Hosts from
capillary-api.md 3.4 (api hosts, the intouch hosts [OVERVIEW] lists, the example hosts).
A host the docs give no zone for (US, China, test clusters, anything else) gets none.
"""

from __future__ import annotations

from urllib.parse import urlsplit

INDIA = "Asia/Kolkata"
UTC_ZONE = "UTC"

CLUSTER_ZONES: dict[str, tuple[str, str]] = {
    "apac.api.capillarytech.com": (INDIA, "India"),
    "in.api.capillarytech.com": (INDIA, "India"),
    "apac.intouch.capillarytech.com": (INDIA, "India"),
    "apac2.api.capillarytech.com": (INDIA, "SG (APAC2)"),
    "sea.intouch.capillarytech.com": (INDIA, "SG (APAC2)"),
    "eu.api.capillarytech.com": (UTC_ZONE, "EU"),
    "eu.intouch.capillarytech.com": (UTC_ZONE, "EU"),
}


def cluster_zone_for(base_url: str | None) -> tuple[str | None, str | None]:
    """(IANA zone, cluster name) the docs give the base URL's host, or (None, None)."""
    if not base_url:
        return None, None
    host = (urlsplit(base_url).hostname or "").lower().rstrip(".")
    return CLUSTER_ZONES.get(host, (None, None))


def describe_cluster_zone(base_url: str | None, configured: str | None) -> str:
    """One line for the start-up log: which zone legacy dates are read in, and why."""
    if configured:
        return f"Capillary cluster time zone: {configured} (CAPILLARY_CLUSTER_TIMEZONE)"
    zone, cluster = cluster_zone_for(base_url)
    host = urlsplit(base_url).hostname if base_url else None
    if zone is not None:
        return (
            f"Capillary cluster time zone: {zone}, the documented zone of the {cluster} "
            f"cluster ({host}); set CAPILLARY_CLUSTER_TIMEZONE to override"
        )
    return (
        f"Capillary cluster time zone: UTC; the docs name no zone for {host or 'this host'}: "
        "set CAPILLARY_CLUSTER_TIMEZONE if its legacy dates are local"
    )
