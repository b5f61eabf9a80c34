"""axe-core (WCAG 2.1 AA) checks for browser tests, in a helper module (test modules do not
import one another)."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE = Axe()


def axe_violations(page) -> list[str]:
    """Run axe-core on the page; return one line per violation (empty when clean)."""
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_21_AA}})
    response = results.response
    assert response["passes"], "axe ran no check at all"
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"])
        for v in response["violations"]
    ]
