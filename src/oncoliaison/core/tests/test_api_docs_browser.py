"""The API documentation page runs in a real browser under the strict Content-Security-Policy.

Swagger UI is served from django-ninja's own static files (no CDN); this drives Debian's Chromium to
check that it renders the operations and that the browser reports no CSP violation for scripts.
"""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


def test_swagger_ui_renders_without_script_csp_violations(live_server) -> None:  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    messages: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda msg: messages.append(f"{msg.type}: {msg.text}"))
            page.goto(f"{live_server.url}/api/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=60000)
            assert "OncoLiaison API" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock", timeout=60000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert any("/api/patients" in p for p in paths)
            assert any("/api/audit-events" in p for p in paths)
        finally:
            browser.close()
    script_violations = [m for m in messages if "Content Security Policy" in m and "script" in m]
    assert script_violations == []
