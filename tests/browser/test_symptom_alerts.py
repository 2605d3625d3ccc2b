"""The symptom-alert journey in a real browser: a navigator takes a report by phone (severe pain and a
red-flag phrase), reads the guidance to the patient, then acknowledges, records the call and resolves the
alert inline on the worklist (htmx), and opens the symptom history chart — under the strict CSP, with no
console error and no failed request.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server.
"""

from __future__ import annotations

from browsing import settled, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert


def test_phone_report_to_resolved_alert(live_server, transactional_db, cast, browser_page):
    load_instruments()  # the live server's database is emptied between tests
    page = browser_page
    problems = watch_problems(page)

    sign_in(page, live_server.url, cast.navigator.username)

    # 1. Phone entry: ESAS-r with severe pain and a red-flag phrase.
    page.goto(f"{live_server.url}/monitoring/patients/{cast.pat.pk}/phone/esas-r/")
    page.get_by_label("Pain").select_option("8")
    for label in ("Tiredness", "Drowsiness", "Nausea", "Lack of appetite", "Shortness of breath",
                  "Depression", "Anxiety", "Wellbeing"):
        page.get_by_label(label, exact=False).first.select_option("2")
    page.get_by_label("Anything else").fill("Had a fever last night")
    page.get_by_role("button", name="Save report and check alerts").click()
    expect(page.get_by_role("heading", name="What to do now")).to_be_visible()
    expect(page.get_by_text("Severe alert")).to_be_visible()
    alert = Alert.objects.get()

    # 2. The worklist: acknowledge, record the call, resolve — inline.
    page.get_by_role("link", name="symptom alert worklist").click()
    row = page.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("Pain: score 8 of 10")
    row.get_by_role("button", name="Acknowledge").click()
    log = page.locator(f"#alert-{alert.pk}").get_by_role("list", name="Actions taken")
    expect(log).to_contain_text("Acknowledged")
    # Resolving before anything was done is refused in the row itself (a 422 that htmx swaps in).
    settled(page.locator(f"#alert-{alert.pk}")).get_by_role("button", name="Resolve").click()
    expect(page.locator(f"#alert-{alert.pk}").get_by_role("alert")).to_contain_text("Record what was done")
    assert sorted(problems) == [f"422 {live_server.url}/monitoring/alerts/{alert.pk}/resolve/",
                                "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"]
    problems.clear()
    row = settled(page.locator(f"#alert-{alert.pk}"))
    row.get_by_label("Action taken").select_option("called_patient")
    row.get_by_label("Note").fill("Advised paracetamol; fever 37.9 now")
    row.get_by_role("button", name="Record").click()
    # The action log, not the row: the row's own drop-down already lists "Called the patient".
    expect(log).to_contain_text("Called the patient")
    settled(page.locator(f"#alert-{alert.pk}")).get_by_role("button", name="Resolve").click()
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("Resolved", timeout=30_000)
    alert.refresh_from_db()
    assert alert.status == "resolved"

    # 3. The history page draws its charts server-side.
    page.goto(f"{live_server.url}/monitoring/patients/{cast.pat.pk}/")
    expect(page.locator("svg.chart").first).to_be_visible()
    assert problems == []
