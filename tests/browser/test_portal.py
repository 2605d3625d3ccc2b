"""Portal journeys in a real browser (Debian's Chromium through Playwright, pytest-django's live server):

- a caregiver with view-only proxy access can see the patient's portal but cannot report or message; after
  the patient removes the access from "My support network", the caregiver sees nothing at all;
- a patient writes to the care team, the navigator replies in place (htmx), the patient sees the reply and
  the navigator's read receipt.

Phone-sized viewport: the portal is mobile first.  Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots.
"""

from __future__ import annotations

from browsing import PHONE, shot
from playwright.sync_api import expect

from oncoliaison.core.models import AuditEvent
from oncoliaison.messaging.models import Message
from oncoliaison.patients.models import Consent
from oncoliaison.testing import PASSWORD


def _watch(page, problems: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Collect script errors, CSP violations and failed static files.  The refused pages themselves answer
    403/404 on purpose; Chromium reports those documents as console errors, which are not problems."""

    def on_console(msg) -> None:  # type: ignore[no-untyped-def]
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            problems.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if "/static/" in r.url and r.status >= 400 else None)


def _page(browser, problems: list[str], viewport: dict[str, int] = PHONE):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=viewport).new_page()
    page.set_default_timeout(15_000)
    _watch(page, problems)
    return page


def _sign_in(page, base: str, username: str, next_path: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}{next_path}")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()




def test_view_only_caregiver_cannot_report_or_message_and_loses_everything_on_revocation(
    live_server, transactional_db, cast, browser
):
    base = live_server.url
    problems: list[str] = []
    pid = cast.pat.pk

    carer = _page(browser, problems)
    _sign_in(carer, base, cast.caregiver.username, "/portal/")
    expect(carer).to_have_url(f"{base}/portal/for/{pid}/")
    expect(carer.get_by_role("heading", name="Pat's care")).to_be_visible()
    expect(carer.get_by_text("You are helping Pat Patient as their caregiver.")).to_be_visible()
    expect(carer.get_by_text("Your access is view only")).to_be_visible()
    expect(carer.get_by_role("heading", name="Care team", exact=True)).to_be_visible()
    expect(carer.get_by_text("Grace Navigator")).to_be_visible()
    expect(carer.get_by_role("link", name="Report symptoms")).to_have_count(0)
    expect(carer.get_by_role("link", name="Write to the care team")).to_have_count(0)
    shot(carer, "portal-caregiver-view-only")

    # Typing the addresses does not help: reporting and messaging are refused.
    carer.goto(f"{base}/portal/for/{pid}/report/")
    expect(carer.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    expect(carer.get_by_text("Your access lets you view only.")).to_be_visible()
    carer.goto(f"{base}/messages/new/for/{pid}/")
    expect(carer.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    carer.goto(f"{base}/messages/")
    expect(carer.get_by_role("heading", name="You do not have access to this page")).to_be_visible()

    # The patient removes the caregiver's access.
    patient = _page(browser, problems)
    _sign_in(patient, base, cast.patient_user.username, "/portal/")
    expect(patient.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    patient.get_by_role("link", name="My support network").first.click()
    expect(patient.get_by_role("heading", name="My support network")).to_be_visible()
    expect(patient.get_by_text("Cara Carer")).to_be_visible()
    shot(patient, "portal-support-network")
    patient.get_by_role("button", name="Remove Cara's access").click()
    expect(patient.get_by_text("Access removed.")).to_be_visible()
    expect(patient.get_by_text("Access ended")).to_be_visible()
    assert Consent.objects.get(grantee_user=cast.caregiver).status == "inactive"

    # The caregiver now sees nothing: the patient's page is "not found", their home lists no one.
    carer.goto(f"{base}/portal/for/{pid}/")
    expect(carer.get_by_role("heading", name="Page not found")).to_be_visible()
    expect(carer.get_by_text("Pat Patient")).to_have_count(0)
    carer.goto(f"{base}/portal/")
    expect(carer.get_by_role("heading", name="People I help")).to_be_visible()
    expect(carer.get_by_text("No one has given you access at the moment.")).to_be_visible()
    expect(carer.get_by_text("Pat Patient")).to_have_count(0)
    carer.goto(f"{base}/portal/for/{pid}/report/")
    expect(carer.get_by_role("heading", name="Page not found")).to_be_visible()
    shot(carer, "portal-caregiver-after-revocation")

    assert problems == [], problems  # no CSP violation, no script error
    assert AuditEvent.objects.filter(category="consent", action="update", patient_id=pid).exists()
    assert AuditEvent.objects.filter(action="access_denied", user_id=cast.caregiver.pk).exists()


def test_patient_messages_the_team_and_the_navigator_replies_in_place(live_server, transactional_db, cast, browser):
    base = live_server.url
    problems: list[str] = []

    patient = _page(browser, problems)
    _sign_in(patient, base, cast.patient_user.username, "/messages/new/")
    expect(patient.get_by_role("heading", name="Write to the care team")).to_be_visible()
    patient.get_by_label("Subject").fill("Mouth sores")
    patient.get_by_label("Message").fill("Since the second cycle my mouth is sore.")
    patient.get_by_role("button", name="Send").click()
    expect(patient.get_by_role("heading", name="Mouth sores")).to_be_visible()
    expect(patient.get_by_text("Your message was sent.")).to_be_visible()
    thread_url = patient.url

    nurse = _page(browser, problems, {"width": 1180, "height": 820})
    _sign_in(nurse, base, cast.navigator.username, "/messages/")
    expect(nurse.get_by_role("heading", name="Secure messages")).to_be_visible()
    expect(nurse.get_by_text("1 new")).to_be_visible()
    nurse.get_by_role("link", name="Mouth sores").click()
    expect(nurse.get_by_text("Since the second cycle my mouth is sore.")).to_be_visible()
    nurse.get_by_label("Message").fill("Rinse with salt water; I will call you today.")
    url_before = nurse.url
    nurse.get_by_role("button", name="Send reply").click()
    expect(nurse.get_by_text("Rinse with salt water; I will call you today.")).to_be_visible()
    assert nurse.url == url_before  # swapped in by htmx, no navigation
    expect(nurse.get_by_label("Message")).to_have_value("")
    assert Message.objects.count() == 2

    patient.goto(thread_url)
    expect(patient.get_by_text("Rinse with salt water; I will call you today.")).to_be_visible()
    expect(patient.get_by_text("Read by Grace Navigator")).to_be_visible()
    shot(patient, "portal-thread")
    assert problems == [], problems


def test_patient_reports_symptoms_and_sees_the_chart(live_server, transactional_db, cast, browser):
    from oncoliaison.monitoring.instruments import load_instruments

    load_instruments()  # the instruments come from a data migration, which an earlier live-server test flushed
    base = live_server.url
    problems: list[str] = []
    patient = _page(browser, problems)
    _sign_in(patient, base, cast.patient_user.username, "/portal/")
    patient.get_by_role("link", name="Report symptoms").click()
    expect(patient.get_by_role("heading", name="How are you feeling?")).to_be_visible()
    patient.get_by_role("group", name="Pain").get_by_label("6", exact=True).check()
    patient.get_by_role("group", name="Tiredness").get_by_label("3", exact=True).check()
    shot(patient, "portal-report")
    patient.get_by_role("button", name="Send to my care team").click()
    expect(patient.get_by_role("heading", name="Thank you — your report was sent")).to_be_visible()
    shot(patient, "portal-report-done")
    patient.get_by_role("link", name="Back to the portal").click()
    chart = patient.get_by_role("img", name="Pain")
    expect(chart).to_be_visible()
    patient.get_by_text("See the numbers").first.click()
    expect(patient.get_by_role("cell", name="6", exact=True).first).to_be_visible()
    shot(patient, "portal-home-chart")
    assert problems == [], problems


def test_staff_invite_a_patient_who_sets_up_their_account(live_server, transactional_db, cast, browser):
    import datetime as dt

    from oncoliaison.patients.models import Patient

    nina = Patient.objects.create(organization=cast.lead, given_name="Nina", family_name="Newcomer",
                                  birth_date=dt.date(1970, 1, 5), gender="female", synthetic=True,
                                  email="nina@example.org")
    base = live_server.url
    problems: list[str] = []
    nurse = _page(browser, problems, {"width": 1180, "height": 820})
    _sign_in(nurse, base, cast.navigator.username, f"/patients/{nina.pk}/")
    nurse.get_by_role("link", name="Invite to the portal").click()
    expect(nurse.get_by_label("Patient's e-mail address")).to_have_value("nina@example.org")
    nurse.get_by_role("button", name="Send invitation").click()
    expect(nurse.get_by_text("Invitation sent.")).to_be_visible()
    link = nurse.locator(".link-box code").inner_text().strip()
    assert "/portal/invite/" in link

    newcomer = _page(browser, problems)
    newcomer.goto(link)
    expect(newcomer.get_by_role("heading", name="Set up your account")).to_be_visible()
    newcomer.get_by_label("Choose a user name").fill("nina")
    newcomer.get_by_label("Choose a password").fill("Blue-heron-lantern-42")
    newcomer.get_by_label("Type the password again").fill("Blue-heron-lantern-42")
    newcomer.get_by_role("button", name="Create my account").click()
    expect(newcomer.get_by_role("heading", name="Your account is ready")).to_be_visible()
    newcomer.get_by_role("link", name="Not now — go to my portal").click()
    expect(newcomer.get_by_role("heading", name="Hello, Nina")).to_be_visible()
    shot(newcomer, "portal-new-patient")

    # The link worked once.
    again = _page(browser, problems)
    again.goto(link)
    expect(again.get_by_role("heading", name="This link does not work")).to_be_visible()
    assert problems == [], problems
