"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server."""

from __future__ import annotations

import os
from pathlib import Path

# Playwright runs an event loop in the test thread; pytest-django's ORM access from that thread is safe here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

import pytest
from accessibility import AccessibilityGate, CheckedBrowser, axe_installed
from browsing import ARGS, CHROMIUM, TABLET
from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    missing = not Path(CHROMIUM).exists()
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed (make browser)"))


@pytest.fixture
def accessibility() -> AccessibilityGate:
    """The axe-core gate: every context ``browser`` opens is checked; the test fails on serious/critical findings."""
    if not axe_installed():
        pytest.fail("axe-core is not installed: run `make browser` (npm ci installs the pinned axe-core into node_modules/)")
    return AccessibilityGate()


@pytest.fixture
def browser(accessibility):  # type: ignore[no-untyped-def]
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield CheckedBrowser(b, accessibility)
            accessibility.sweep_all()
        finally:
            b.close()
    if accessibility.violations:
        pytest.fail(accessibility.report(), pytrace=False)


@pytest.fixture
def browser_page(browser):  # type: ignore[no-untyped-def]
    """One page in a landscape-tablet context."""
    context = browser.new_context(viewport=TABLET)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        yield page
        browser.gate.sweep(context)
    finally:
        context.close()
