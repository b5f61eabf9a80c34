"""Reading a /metrics answer in tests: samples keyed by name and labels, and the counts the
tests compare before and after (the metrics are process-wide, so never absolute values)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of the exposition, keyed by its name and labels."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """One sample's value (0 when it is not there yet)."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    """How much one sample moved between two scrapes."""
    return value(after, name, **labels) - value(before, name, **labels)


def lookups(samples: Samples, page: str, outcome: str) -> float:
    """Lookup views counted for that page and outcome."""
    return value(samples, "pointsdesk_lookup_seconds_count", page=page, outcome=outcome)


def calls(samples: Samples, api: str, outcome: str) -> float:
    """Upstream calls counted for that API and outcome."""
    return value(samples, "pointsdesk_upstream_call_seconds_count", api=api, outcome=outcome)
