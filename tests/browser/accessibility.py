"""The accessibility gate of the browser tests: axe-core checks every page state any browser test leaves.

axe-core (a pinned version in ``package.json`` / ``package-lock.json``, installed into ``node_modules/`` by
``make browser``, which ``make test`` runs) is added to every document of every browser context the fixtures
hand out. A page is checked when the test is about to leave that state — the page runs axe on ``beforeunload`` (link,
form, ``goto``) and on ``htmx:beforeRequest``, and the test's route holds the request that changes the page
until the page's report arrives (Chromium answers no DevTools evaluation while a navigation is pending, so the
page reports over a request the route answers) — and once more on every open page when the test ends. So each page a test opens and
each state an htmx swap produces is checked without the test asking, and the suite fails on any *serious*
or *critical* violation (axe's impact levels), naming the rule, the page and the elements.

A page that did not change since its last check (a ``MutationObserver`` keeps a flag) is not checked twice.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Error, Page, Request, Route

REPO = Path(__file__).resolve().parents[2]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

# Violations that another change in flight owns, by (axe rule, page path) and the elements it names. They are
# reported as warnings, not failures; the change that fixes them deletes its entry. Keep this list short.
PENDING: dict[tuple[str, str], frozenset[str]] = {
}

REPORT_PATH = "/__axe-report__"  # answered by the test's route, never by the server
HOLD_SECONDS = 20.0  # how long a page change waits for the check of the state it leaves

# Runs at the start of every top-level document, before the page's own scripts. Just before the page leaves its
# current state (``beforeunload``: a link, a form, goto; ``htmx:beforeRequest``: an htmx request) it runs axe
# on the document as it stands — if the DOM changed since the last check — and posts exactly one report.
# The request that changes the page is held by the test's route until that report arrives.
_WATCH = """
(() => {
  if (window.top !== window) { return; }
  let dirty = true;
  let queue = Promise.resolve();
  new MutationObserver(() => { dirty = true; })
    .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  const IMPACTS = __IMPACTS__;
  const run = async () => {
    if (!dirty || typeof window.axe === "undefined") { return []; }
    dirty = false;
    const result = await window.axe.run(document, {resultTypes: ["violations"]});
    return result.violations.filter((v) => IMPACTS.includes(v.impact)).map((v) => ({
      id: v.id, impact: v.impact, help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
      nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " :: " + (n.failureSummary || "").replace(/\\s+/g, " ")),
    }));
  };
  window.__axeCheck = () => { queue = queue.then(run, run); return queue; };
  const report = (when) => {
    const url = location.href;
    window.__axeCheck().then(
      (violations) => ({when, url, violations}),
      (error) => ({when, url, violations: [], error: String(error)}),
    ).then((body) => fetch(new URL(__PATH__, url).href, {method: "POST", body: JSON.stringify(body), keepalive: true}))
     .catch(() => {});  // the document is gone: the held request times out and goes on
  };
  window.addEventListener("beforeunload", () => report("before leaving"));
  document.addEventListener("htmx:beforeRequest", () => report("before the htmx request on"));
})();
""".replace("__IMPACTS__", json.dumps(list(FAILING_IMPACTS))).replace("__PATH__", json.dumps(REPORT_PATH))


def axe_installed() -> bool:
    return AXE.is_file()


@dataclass
class AccessibilityGate:
    """Collects the serious and critical axe violations of every page state in the contexts it is attached to."""

    violations: list[str] = field(default_factory=list)
    checks: int = 0
    contexts: list[BrowserContext] = field(default_factory=list)
    _reports: dict[int, int] = field(default_factory=dict)  # reports received and not yet matched, per page

    def attach(self, context: BrowserContext) -> BrowserContext:
        context.add_init_script(path=str(AXE))
        context.add_init_script(script=_WATCH)
        context.route("**/*", self._before_request)
        self.contexts.append(context)
        return context

    def check(self, page: Page, when: str) -> list[str]:
        """Run axe on the page as it stands now (no navigation pending); returns and records what it found."""
        if not page.url.startswith("http"):
            return []
        try:
            found: list[dict[str, Any]] | None = page.evaluate("() => window.__axeCheck ? window.__axeCheck() : null")
        except Error:  # the page closed or navigated meanwhile
            return []
        return self._record({"when": when, "url": page.url, "violations": found}) if found is not None else []

    def _record(self, report: dict[str, Any]) -> list[str]:
        self.checks += 1
        if report.get("error"):
            self.violations.append(f"axe-core could not run on {report['url']}: {report['error']}")
        lines = []
        for v in report["violations"]:
            line = f"[{v['impact']}] {v['id']}: {v['help']} — {report['when']} {report['url']}\n      " + "\n      ".join(v["nodes"])
            pending = PENDING.get((v["id"], urlsplit(report["url"]).path), frozenset())
            if set(v["targets"]) <= pending:
                warnings.warn(f"known, fix in flight: {line}", stacklevel=1)
            else:
                lines.append(line)
        self.violations.extend(lines)
        return lines

    def sweep(self, context: BrowserContext) -> None:
        """Check every open page of ``context`` (its last state) — before the context closes."""
        for page in context.pages:
            if not page.is_closed():
                self.check(page, "at the end of the test on")

    def sweep_all(self) -> None:
        for context in self.contexts:
            try:
                self.sweep(context)
            except Error:  # the context is already closed
                continue

    def take(self) -> list[str]:
        """What was found so far (and forget it): for a test that provokes violations on purpose."""
        found, self.violations = self.violations, []
        return found

    def report(self) -> str:
        unique = list(dict.fromkeys(self.violations))
        return (
            f"axe-core found {len(unique)} serious or critical accessibility violation(s) "
            f"in the pages this test visited ({self.checks} page states checked):\n  " + "\n  ".join(unique)
        )

    def _before_request(self, route: Route, request: Request) -> None:
        frame = request.frame
        if request.url.endswith(REPORT_PATH) and request.method == "POST":
            self._record(json.loads(request.post_data or "{}"))
            self._reports[id(frame.page)] = self._reports.get(id(frame.page), 0) + 1
            route.fulfill(status=204)
            return
        if _is_page_change(request) and frame.parent_frame is None and frame.url.startswith("http"):
            self._hold_until_checked(frame.page)
        route.fallback()

    def _hold_until_checked(self, page: Page) -> None:
        """Wait (without blocking Playwright) for the page's report on the state this request leaves."""
        key = id(page)
        waited = 0.0
        while self._reports.get(key, 0) == 0:
            if waited >= HOLD_SECONDS or page.is_closed():
                return
            page.wait_for_timeout(25)
            waited += 0.025
        self._reports[key] -= 1


def _is_page_change(request: Request) -> bool:
    try:
        return request.is_navigation_request() or bool(request.headers.get("hx-request"))
    except Error:
        return False


class CheckedBrowser:
    """The Playwright browser, except that every context it opens carries the accessibility gate."""

    def __init__(self, browser: Browser, gate: AccessibilityGate) -> None:
        self._browser = browser
        self.gate = gate

    def new_context(self, **kwargs: Any) -> BrowserContext:
        return self.gate.attach(self._browser.new_context(**kwargs))

    def new_page(self, **kwargs: Any) -> Page:
        return self.new_context(**kwargs).new_page()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._browser, name)
