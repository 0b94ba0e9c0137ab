"""Accessibility checks in the real browser with axe-core, from testing/node_modules (installed
by `make test` from testing/package-lock.json)."""

from pathlib import Path
from typing import Any

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
# What axe rates as keeping someone from using the page; "moderate" and "minor" are advice.
BLOCKING = ("serious", "critical")

_RUN = """async () => {
  const results = await axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + ": " + n.failureSummary),
  }));
}"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """The serious and critical axe-core violations on the page as it is now."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: run `make testing/node_modules/.installed`")
    # Evaluated through the browser's debugging protocol, which the site's
    # Content-Security-Policy (scripts from the site only) does not apply to.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    return [v for v in page.evaluate(_RUN) if v["impact"] in BLOCKING]


def axe_report(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['impact']} {v['id']}: {v['help']}\n  " + "\n  ".join(v["nodes"]) for v in violations
    )
