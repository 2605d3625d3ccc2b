"""The navigator's keyboard and screen-reader route through the alert worklist, in a real browser:

- from the top of the page, the second Tab stop skips straight to the Acknowledge button of the most urgent
  alert not yet acknowledged (it used to take 21 Tabs);
- after an inline (htmx) action, focus stays on the changed row — never falls back to the page — and the page's
  live region says what happened, so a screen-reader user hears the result.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server.
"""

from __future__ import annotations

from browsing import settled, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.instruments.models import Instrument
from oncoliaison.monitoring import services as monitoring
from oncoliaison.monitoring.instruments import load_instruments

FOCUSED_ID = "() => document.activeElement && document.activeElement.id"
FOCUS_IN = "(id) => !!(document.activeElement && document.activeElement.closest('#' + id))"


def test_acknowledge_in_two_tabs_and_hear_the_result(live_server, transactional_db, cast, browser_page):
    load_instruments()  # the live server's database is emptied between tests
    esas = Instrument.objects.get(code="esas-r")
    actor = actor_for_user(cast.navigator)
    alert = monitoring.report_submit(actor=actor, patient=cast.pat, instrument=esas, answers={"esas-1": 9},
                                     source="phone").alert
    assert alert is not None
    page = browser_page
    problems = watch_problems(page)
    sign_in(page, live_server.url, cast.navigator.username, next_path="/monitoring/alerts/")
    expect(page.get_by_role("heading", name="Symptom alerts")).to_be_visible()

    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("Skip to the first alert to acknowledge (1 waiting)")
    page.keyboard.press("Enter")
    first = page.evaluate(FOCUSED_ID)
    assert first.startswith("ack-"), first  # the button itself, ready for Enter
    alert_id = first.removeprefix("ack-")
    assert alert_id == str(alert.pk)
    row = page.locator(f"#alert-{alert_id}")
    page.keyboard.press("Enter")
    expect(row.get_by_role("list", name="Actions taken")).to_contain_text("Acknowledged")
    settled(row)
    expect(page.locator("#live-region")).to_have_text("Alert acknowledged.")
    assert page.evaluate(FOCUS_IN, f"alert-{alert_id}"), "focus left the changed row"

    # An action refused in the row: the reason is announced and focus stays on the row.
    settled(row).get_by_role("button", name="Resolve").click()
    expect(row.get_by_role("alert")).to_contain_text("Record what was done")
    expect(page.locator("#live-region")).to_contain_text("Record what was done")
    assert page.evaluate(FOCUS_IN, f"alert-{alert_id}")
    assert [p for p in problems if "422" not in p] == []
