"""The referrer's answer to "More information requested", in a real browser: the partner physician sees the
program's question, is told clearly why a wrong file is refused, replies with the pathology report, and the
triage navigator finds the referral back in the queue with the reply and downloads the document.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server.
Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

import pytest
from browsing import shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.referrals import services
from oncoliaison.referrals.models import ReferralAttachment, ReferralStatus
from oncoliaison.referrals.tests.factories import provider_referral

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.STORAGES = {**settings.STORAGES,
                         "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                     "OPTIONS": {"location": str(tmp_path)}}}


def test_referrer_replies_with_the_report(live_server, transactional_db, cast, browser_page, tmp_path):
    referral = provider_referral(cast)
    services.referral_request_info(actor=cast.actor(cast.navigator), referral=referral,
                                   message="Please send the most recent pathology report.")
    page = browser_page
    problems = watch_problems(page)
    wrong, report = tmp_path / "notes.exe", tmp_path / "pathology.pdf"
    wrong.write_bytes(b"MZ\x90\x00")
    report.write_bytes(PDF)

    # 1. The referrer sees the question and a reply form (no longer only "withdraw").
    sign_in(page, live_server.url, cast.outsider.username)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/referrals/{referral.pk}/")
    expect(page.get_by_role("region", name="Information requested")).to_contain_text(
        "Please send the most recent pathology report.")
    page.get_by_label("Your reply").fill("Pathology report attached.")
    page.get_by_label("Documents").set_input_files(str(wrong))
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "notes.exe: only PDF, JPEG, PNG or plain-text files can be attached.")
    page.get_by_label("Your reply").fill("Pathology report attached.")
    page.get_by_label("Documents").set_input_files(str(report))
    shot(page, "referral-reply-form")
    page.get_by_role("button", name="Send the reply").click()
    expect(page.get_by_text("Your reply was sent to the program.")).to_be_visible()

    # 2. The navigator finds it back in the queue, reads the reply and downloads the report.
    page.context.clear_cookies()
    sign_in(page, live_server.url, cast.navigator.username)
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(f"{live_server.url}/referrals/{referral.pk}/")
    expect(page.get_by_role("heading", name="The referrer's reply")).to_be_visible()
    expect(page.get_by_text("Pathology report attached.").first).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="pathology.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    shot(page, "referral-reply-navigator")
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.RECEIVED
    assert ReferralAttachment.objects.get(referral=referral).uploaded_by_id == cast.outsider.pk
    expected = {f"400 {live_server.url}/referrals/{referral.pk}/reply/",
                "Failed to load resource: the server responded with a status of 400 (Bad Request)"}
    assert [p for p in problems if p not in expected] == []
