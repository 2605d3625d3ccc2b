"""The main journey in a real browser: a navigator signs in, searches for a patient and opens the summary.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live
server.  Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages for a visual check.
"""

from __future__ import annotations

from browsing import shot, watch_problems
from playwright.sync_api import expect

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.testing import PASSWORD


def test_navigator_signs_in_finds_patient_and_opens_summary(live_server, transactional_db, cast, browser_page):
    page = browser_page
    problems = watch_problems(page)

    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    # A mistake first: the error summary receives focus and links to the field.
    page.get_by_label("User name").fill(cast.navigator.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("The user name or password is not right")
    problems.clear()  # the 400 response of the failed attempt is expected

    page.get_by_label("User name").fill(cast.navigator.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", name="Welcome, Grace Navigator")).to_be_visible()
    expect(page.get_by_role("heading", name="My patients")).to_be_visible()
    shot(page, "home")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Name").fill("pat")
    page.get_by_role("button", name="Search").click()
    result = page.get_by_role("link", name="Patient, Pat")
    expect(result).to_be_visible()  # swapped in by htmx
    assert page.url == f"{live_server.url}/patients/"  # nothing identifying in the address
    result.click()

    expect(page.get_by_role("heading", name="Pat Patient")).to_be_visible()
    expect(page.get_by_text("Synthetic record")).to_be_visible()
    expect(page.get_by_text("L-1001")).to_be_visible()
    expect(page.get_by_role("heading", name="Care team", exact=True)).to_be_visible()
    shot(page, "patient-summary")

    # Print: the audit row is written first (POST from a static script, no inline JavaScript), then the
    # browser's print dialog opens (a no-op in headless Chromium).
    page.wait_for_load_state("load")  # print.js bound to the button (until then a click posts the plain form)
    page.evaluate("window.print = () => { document.body.dataset.printed = 'yes'; }")
    with page.expect_response(lambda r: r.url.endswith(f"/patients/{cast.pat.pk}/print/")) as printed:
        page.get_by_role("button", name="Print").click()
    assert printed.value.status == 204
    expect(page.locator("body[data-printed='yes']")).to_have_count(1)

    assert problems == [], problems  # no CSP violation, no script error
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, user_id=cast.navigator.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH, patient_id=cast.pat.pk).exists()
    assert AuditEvent.objects.filter(action=AuditAction.READ, patient_id=cast.pat.pk, channel="web").exists()
    assert AuditEvent.objects.filter(action=AuditAction.PRINT, patient_id=cast.pat.pk).count() == 1
