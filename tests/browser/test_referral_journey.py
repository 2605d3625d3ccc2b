"""The referral journey in a real browser: a person refers themselves on the public page, the navigator
finds the referral in the triage queue, accepts it (registering a new patient), enrolls the patient with a
navigator and the Cancer Liaison Physician, and the episode page shows the care team.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live
server.  Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

from browsing import shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.organisations.models import Role
from oncoliaison.programs.models import ProgramEpisode
from oncoliaison.referrals.models import Referral
from oncoliaison.testing import _staff


def test_self_referral_to_enrollment(live_server, transactional_db, cast, browser_page):
    page = browser_page
    clp = _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)
    problems = watch_problems(page)

    # 1. The public page, no log-in.
    page.goto(f"{live_server.url}/refer/")
    expect(page.get_by_role("heading", name="Refer yourself to the Cancer Liaison Program")).to_be_visible()
    page.get_by_label("First name").fill("Lena")
    page.get_by_label("Last name").fill("Marsh")
    page.get_by_label("Date of birth").fill("1972-03-09")
    page.get_by_label("Telephone").fill("555-0188")
    page.get_by_label("How can we help?").fill("My doctor found a lump; I would like help with the next steps.")
    page.get_by_label("How did you hear about the program?").select_option(label="Web search")
    page.get_by_label("I agree that the Cancer Liaison Program may contact me").check()
    shot(page, "referral-public-form")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="Thank you — we have your request")).to_be_visible()
    assert page.url == f"{live_server.url}/refer/received/"
    shot(page, "referral-public-received")

    # 2. The navigator signs in and finds it in the triage queue.
    sign_in(page, live_server.url, cast.navigator.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    expect(page.get_by_role("heading", name="Referral queue")).to_be_visible()
    entry = page.get_by_role("link", name="Lena Marsh")
    expect(entry).to_be_visible()
    shot(page, "referral-queue")
    entry.click()
    expect(page.get_by_role("heading", name="Referral of Lena Marsh")).to_be_visible()
    expect(page.get_by_text("Web search")).to_be_visible()

    # 3. Accept, registering a new patient (no possible duplicate exists).
    page.get_by_role("link", name="Accept…").click()
    expect(page.get_by_text("No possible existing record was found.")).to_be_visible()
    expect(page.get_by_label("Register a new patient")).to_be_checked()
    page.get_by_role("button", name="Accept the referral").click()
    expect(page.get_by_text("The referral was accepted.")).to_be_visible()
    referral = Referral.objects.get()
    assert referral.status == "accepted" and referral.patient is not None

    # 4. Enroll with the navigator and the CLP.
    page.get_by_role("link", name="Enroll in the program…").click()
    expect(page.get_by_label("Nurse navigator")).to_have_value(str(cast.navigator.pk))
    page.get_by_label("Cancer Liaison Physician").select_option(label="Maria Liaison")
    shot(page, "referral-enroll")
    page.get_by_role("button", name="Enroll").click()

    # 5. The episode page shows the care team.
    expect(page.get_by_role("heading", name="Cancer Liaison Program: Lena Marsh")).to_be_visible()
    team = page.locator("ul.care-team")
    expect(team).to_contain_text("Nurse navigator: Grace Navigator")
    expect(team).to_contain_text("Cancer Liaison Physician: Maria Liaison")
    shot(page, "referral-episode")
    episode = ProgramEpisode.objects.get()
    assert (episode.navigator_id, episode.clp_id, episode.referral_id) == (cast.navigator.pk, clp.pk, referral.pk)
    assert problems == []
