"""A patient reports a severe symptom in a real browser (Debian's Chromium through Playwright):

- the confirmation "Report sent" is a page of its own (post/redirect/get): pressing F5 on it sends nothing
  again, and a resent form (the same one-time key, as the browser's "resubmit" would) lands on the same
  confirmation without a second report or a second severe alert;
- the confirmation tells the patient what to call, with the program's 24-hour line as a tel: link; without
  a configured number the patient sees the 911/988 wording and the navigator a configuration warning.

Phone-sized viewport: the portal is mobile first.  Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots.
"""

from __future__ import annotations

import datetime as dt
import re

from browsing import PHONE, TABLET, shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert, SymptomReport
from oncoliaison.organisations.models import Organization

URGENT, URGENT_TEL = "(555) 555-0100", "tel:+15555550100"


def _page(browser, problems: list[str], viewport: dict[str, int] = PHONE):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    watch_problems(page, problems)
    return page


def _report_severe_pain(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.get_by_role("link", name="Report symptoms").click()
    expect(page.get_by_role("heading", name="How are you feeling?")).to_be_visible()
    page.get_by_role("group", name=re.compile("Pain")).get_by_label("10", exact=True).check()
    page.get_by_role("button", name="Send to my care team").click()


def test_f5_and_a_resent_form_on_report_sent_make_one_report_and_one_alert(live_server, transactional_db, cast,
                                                                           browser):
    base = live_server.url
    load_instruments()  # the instruments come from a data migration, which an earlier live-server test flushed
    Organization.objects.filter(pk=cast.lead.pk).update(
        urgent_phone=URGENT, office_phone="(555) 555-0101", office_first_day=0, office_last_day=4,
        office_opens=dt.time(8), office_closes=dt.time(17))
    problems: list[str] = []
    page = _page(browser, problems)
    posted: list[dict[str, str]] = []
    page.on("request", lambda r: posted.append({"url": r.url, "body": r.post_data or ""})
            if r.method == "POST" and "/portal/report/" in r.url else None)
    sign_in(page, base, cast.patient_user.username, "/portal/")
    _report_severe_pain(page, base)

    expect(page.get_by_role("heading", name="Thank you — your report was sent")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/portal/report/sent/\d+/$"))
    sent_url = page.url
    expect(page.get_by_role("alert")).to_contain_text("severe symptom")
    call = page.get_by_role("link", name=URGENT).first
    expect(call).to_have_attribute("href", URGENT_TEL)
    shot(page, "report-sent-with-number")
    assert SymptomReport.objects.count() == 1 and Alert.objects.filter(severity="severe").count() == 1

    page.reload()  # F5
    expect(page.get_by_role("heading", name="Thank you — your report was sent")).to_be_visible()
    assert page.url == sent_url
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1

    # The same form sent again (what "Confirm form resubmission" or a double tap sends): same key, same body.
    assert len(posted) == 1 and "idempotency_key=" in posted[0]["body"]
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    again = page.request.post(posted[0]["url"], data=posted[0]["body"], max_redirects=0, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": csrf, "Referer": posted[0]["url"]})
    assert again.status == 303 and again.headers["location"] == sent_url.removeprefix(base)
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1
    assert problems == []


def test_without_a_number_the_patient_sees_911_and_988_and_staff_a_warning(live_server, transactional_db, cast,
                                                                            browser):
    base = live_server.url
    load_instruments()
    problems: list[str] = []
    page = _page(browser, problems)
    sign_in(page, base, cast.patient_user.username, "/portal/")
    _report_severe_pain(page, base)
    expect(page.get_by_role("heading", name="Thank you — your report was sent")).to_be_visible()
    expect(page.get_by_text("call or text 988").first).to_be_visible()
    expect(page.locator('a[href^="tel:"]')).to_have_count(0)
    expect(page.get_by_text("Configuration:")).to_have_count(0)

    staff = _page(browser, problems, TABLET)
    sign_in(staff, base, cast.navigator.username)
    expect(staff.get_by_role("note").filter(has_text="Configuration:").first).to_contain_text(
        "Lead Cancer Program has no urgent line")
    shot(staff, "staff-home-configuration-warning")
    assert problems == []
