"""A severe symptom report from the patient portal, end to end in a real browser:

the patient reports severe pain (ESAS-r 9 of 10) and a fever during chemotherapy → the portal tells them
what to do now → the navigator finds the alert on the symptom alert worklist with its response deadline,
acknowledges it and records "called the patient" (inline, htmx) → the patient's portal shows that the care
team responded, and so does the portal of the caregiver the patient gave view-only access.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server,
under the strict CSP, with no script error, CSP violation or failed request.
"""

from __future__ import annotations

import pytest
from browsing import PHONE, settled, watch_problems
from django.utils import timezone
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

from oncoliaison.core.models import AuditEvent
from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert, AlertAction
from oncoliaison.testing import PASSWORD

DESK = {"width": 1280, "height": 900}
TIMEOUT_MS = 30_000



@pytest.fixture(autouse=True)
def _patient_waits():  # type: ignore[no-untyped-def]
    expect.set_options(timeout=TIMEOUT_MS)
    yield
    expect.set_options(timeout=5_000)  # Playwright's default, for the other browser tests


def _page(browser, problems: list[str], viewport: dict[str, int]):  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies) that records script errors, CSP violations and failed requests."""
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(TIMEOUT_MS)
    watch_problems(page, problems)
    return page


def _sign_in(page, base: str, username: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}{next_path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()




def _local(when, pattern: str) -> str:  # type: ignore[no-untyped-def]
    """A stored instant as the pages print it (the program's time zone, Django's date format)."""
    return date_format(timezone.localtime(when), pattern)


def test_severe_portal_report_reaches_the_navigator_and_the_response_reaches_the_patient(
    live_server, transactional_db, cast, browser
):
    load_instruments()  # the instruments come from a data migration, which an earlier live-server test flushed
    base = live_server.url
    problems: list[str] = []
    pid = cast.pat.pk

    # 1. The patient reports severe pain and a fever on the phone-sized portal.
    patient = _page(browser, problems, PHONE)
    _sign_in(patient, base, cast.patient_user.username, "/portal/")
    expect(patient.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    expect(patient.get_by_role("heading", name="Your care team's response")).to_have_count(0)
    patient.get_by_role("link", name="Report symptoms").click()
    expect(patient.get_by_role("heading", name="How are you feeling?")).to_be_visible()
    patient.get_by_role("group", name="Pain").get_by_label("9", exact=True).check()
    patient.get_by_role("group", name="Tiredness").get_by_label("5", exact=True).check()
    # the free-text answer is one labelled field (a screen reader names it by its label)
    patient.get_by_label("Anything else you want your care team to know?").fill(
        "I have had a fever of 38.6 since last night, a week after my chemotherapy.")
    patient.get_by_role("button", name="Send to my care team").click()

    # ... and is told what to do now: a severe symptom, the 24-hour line, fever advice.
    expect(patient.get_by_role("heading", name="Thank you — your report was sent")).to_be_visible()
    guidance = patient.get_by_role("alert").filter(has=patient.get_by_role("heading", name="What to do now"))
    expect(guidance).to_be_visible()
    expect(guidance).to_contain_text("Your answers show a severe symptom.")
    expect(guidance).to_contain_text("call the 24-hour line now")
    expect(guidance.get_by_role("listitem").filter(has_text="Fever:")).to_be_visible()
    expect(guidance.get_by_role("listitem").filter(has_text="Pain:")).to_be_visible()

    alert = Alert.objects.get(patient_id=pid)
    assert alert.severity == "severe" and alert.status == "open"
    assert {r["rule"] for r in alert.reasons} >= {"severe", "red_flag"}
    assert AuditEvent.objects.filter(category="symptoms", action="create", patient_id=pid).exists()

    # Before anyone responds, the portal says the care team was told and by when they will call.
    patient.get_by_role("link", name="Back to the portal").click()
    responses = patient.locator("section[aria-labelledby='responses']")
    expect(responses).to_contain_text(
        f"Your care team has been told and will contact you by {_local(alert.deadline, 'l j F, H:i')}.")

    # 2. The navigator finds the alert on the worklist, with its response deadline.
    nurse = _page(browser, problems, DESK)
    _sign_in(nurse, base, cast.navigator.username, "/monitoring/alerts/")
    expect(nurse.get_by_role("heading", name="Symptom alerts")).to_be_visible()
    row = nurse.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("Severe")
    expect(row).to_contain_text("Pain: score 9 of 10")
    expect(row).to_contain_text("fever")
    expect(row.locator(".deadline").first).to_have_text(_local(alert.deadline, "D j M, H:i"))
    expect(row).to_contain_text("Open")

    # 3. Acknowledge, then record the call — each swapped in place.
    url_before = nurse.url
    settled(row).get_by_role("button", name="Acknowledge").click()
    row = nurse.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("Acknowledged")
    expect(row.get_by_role("button", name="Acknowledge")).to_have_count(0)
    settled(row)
    row.get_by_label("Action taken").select_option("called_patient")
    row.get_by_label("Note").fill("Advised to come to the infusion unit for bloods and assessment.")
    row.get_by_role("button", name="Record").click()
    log = nurse.locator(f"#alert-{alert.pk}").get_by_role("list", name="Actions taken")
    expect(log).to_contain_text("Called the patient")
    settled(nurse.locator(f"#alert-{alert.pk}"))
    assert nurse.url == url_before  # htmx swapped the row, no navigation
    call = AlertAction.objects.get(alert=alert, kind="called_patient")
    alert.refresh_from_db()
    assert alert.status == "acknowledged" and alert.acknowledged_by_id == cast.navigator.pk

    # 4. The patient's portal shows that the care team responded — but not the staff's note.
    patient.reload()
    responses = patient.locator("section[aria-labelledby='responses']")
    expect(responses.get_by_role("heading", name="Your care team's response")).to_be_visible()
    expect(responses).to_contain_text(f"Your care team responded on {_local(call.at, 'l j F, H:i')}: called you")
    expect(responses).not_to_contain_text("will contact you by")
    expect(patient.get_by_text("infusion unit")).to_have_count(0)

    # 5. So does the portal of the caregiver with view-only access.
    carer = _page(browser, problems, PHONE)
    _sign_in(carer, base, cast.caregiver.username, "/portal/")
    expect(carer).to_have_url(f"{base}/portal/for/{pid}/")
    carer_responses = carer.locator("section[aria-labelledby='responses']")
    expect(carer_responses.get_by_role("heading", name="The care team's response")).to_be_visible()
    expect(carer_responses).to_contain_text(
        f"The care team responded on {_local(call.at, 'l j F, H:i')}: called the patient")

    assert problems == [], problems
    assert AuditEvent.objects.filter(category="symptoms", resource_type="Flag", action="read", patient_id=pid,
                                     user_id=cast.caregiver.pk).exists()
