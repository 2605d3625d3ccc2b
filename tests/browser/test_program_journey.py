"""The whole program journey in a real browser, from a self-referral to the committee dashboard.

A person refers themselves on the public page; the navigator accepts the referral from the triage queue
(registering a new patient) and enrolls them with a navigator and the Cancer Liaison Physician; the navigator
invites the patient to the portal and the patient sets up an account; the patient fills the NCCN Distress
Thermometer and Problem List in the portal; the navigator accepts the proposed referrals and generates the
care plan, completes a task and resolves a barrier; the program administrator's dashboard counts the
referral by source, the screened patient and the resolved barrier.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live
server.  Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

from pathlib import Path

from browsing import PHONE, TABLET, shot, watch_problems
from playwright.sync_api import expect

from oncoliaison.assessments.models import Assessment, ReferralSuggestion
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.careplans.models import Barrier, CarePlan, Task
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.organisations.models import Role
from oncoliaison.programs.models import ProgramEpisode
from oncoliaison.referrals.models import Referral
from oncoliaison.testing import PASSWORD, _staff


def _page(browser, problems: list[str], viewport: dict[str, int] = TABLET):  # type: ignore[no-untyped-def]
    """A fresh browser context (its own cookies) that records script errors, CSP violations and failures."""
    page = browser.new_context(viewport=viewport, accept_downloads=True).new_page()
    page.set_default_timeout(15_000)
    watch_problems(page, problems)
    return page


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()




def test_self_referral_to_the_dashboard(live_server, transactional_db, cast, browser):
    # The program has recorded NCCN's permission for the Distress Thermometer (through the service).
    load_instruments(cast)
    clp = _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)
    base = live_server.url
    problems: list[str] = []

    # 1. A self-referral on the public page.
    public = _page(browser, problems, PHONE)
    public.goto(f"{base}/refer/")
    expect(public.get_by_role("heading", name="Refer yourself to the Cancer Liaison Program")).to_be_visible()
    public.get_by_label("First name").fill("Lena")
    public.get_by_label("Last name").fill("Marsh")
    public.get_by_label("Date of birth").fill("1972-03-09")
    public.get_by_label("Telephone").fill("555-0188")
    public.get_by_label("E-mail", exact=True).fill("lena@example.org")
    public.get_by_label("How can we help?").fill("My doctor found a lump; I would like help with the next steps.")
    public.get_by_label("How did you hear about the program?").select_option(label="Web search")
    public.get_by_label("I agree that the Cancer Liaison Program may contact me").check()
    public.get_by_role("button", name="Send my request").click()
    expect(public.get_by_role("heading", name="Thank you — we have your request")).to_be_visible()

    # 2. The navigator accepts it from the triage queue, registering a new patient.
    nurse = _page(browser, problems)
    _sign_in(nurse, base, cast.navigator.username)
    nurse.get_by_role("navigation", name="Main").get_by_role("link", name="Referrals").click()
    nurse.get_by_role("link", name="Lena Marsh").click()
    expect(nurse.get_by_role("heading", name="Referral of Lena Marsh")).to_be_visible()
    nurse.get_by_role("link", name="Accept…").click()
    expect(nurse.get_by_label("Register a new patient")).to_be_checked()
    nurse.get_by_role("button", name="Accept the referral").click()
    expect(nurse.get_by_text("The referral was accepted.")).to_be_visible()
    referral = Referral.objects.get()
    patient = referral.patient
    assert referral.status == "accepted" and patient is not None

    # 3. Enrollment with the navigator and the CLP.
    nurse.get_by_role("link", name="Enroll in the program…").click()
    nurse.get_by_label("Cancer Liaison Physician").select_option(label="Maria Liaison")
    nurse.get_by_role("button", name="Enroll").click()
    expect(nurse.get_by_role("heading", name="Cancer Liaison Program: Lena Marsh")).to_be_visible()
    episode = ProgramEpisode.objects.get()
    assert (episode.patient_id, episode.navigator_id, episode.clp_id) == (patient.pk, cast.navigator.pk, clp.pk)
    shot(nurse, "journey-episode")

    # 4. The navigator invites the patient to the portal; the patient sets up an account.
    nurse.goto(f"{base}/patients/{patient.pk}/")
    nurse.get_by_role("link", name="Invite to the portal").click()
    nurse.get_by_label("Patient's e-mail address").fill("lena@example.org")
    nurse.get_by_role("button", name="Send invitation").click()
    expect(nurse.get_by_text("Invitation sent.")).to_be_visible()
    link = nurse.locator(".link-box code").inner_text().strip()
    assert "/portal/invite/" in link

    lena = _page(browser, problems, PHONE)
    lena.goto(link)
    expect(lena.get_by_role("heading", name="Set up your account")).to_be_visible()
    lena.get_by_label("Choose a user name").fill("lena")
    lena.get_by_label("Choose a password").fill("Quiet-harbour-lantern-58")
    lena.get_by_label("Type the password again").fill("Quiet-harbour-lantern-58")
    lena.get_by_role("button", name="Create my account").click()
    expect(lena.get_by_role("heading", name="Your account is ready")).to_be_visible()
    lena.get_by_role("link", name="Not now — go to my portal").click()
    expect(lena.get_by_role("heading", name="Hello, Lena")).to_be_visible()

    # 5. The patient fills the distress screen in the portal: distress 7, problems ticked.
    lena.get_by_role("link", name="Questionnaires about your needs").click()
    lena.get_by_role("link", name="Start: NCCN Distress Thermometer and Problem List").click()
    expect(lena.get_by_role("heading", name="NCCN Distress Thermometer and Problem List")).to_be_visible()
    lena.get_by_label("7", exact=True).check()
    lena.get_by_label("Worry or anxiety").check()
    lena.get_by_label("Finances").check()
    lena.get_by_label("Transportation").check()
    shot(lena, "journey-portal-distress-form")
    lena.get_by_role("button", name="Send to my care team").click()
    expect(lena.get_by_role("heading", name="Thank you — your answers were sent")).to_be_visible()
    expect(lena.get_by_text("Your care team will review them")).to_be_visible()
    shot(lena, "journey-portal-distress-sent")
    assessment = Assessment.objects.get()
    assert assessment.patient_id == patient.pk and assessment.filled_by == "patient" and assessment.positive

    # 6. The navigator reviews it, accepts the proposed referrals and generates the care plan.
    nurse.goto(f"{base}/patients/{patient.pk}/")
    nurse.get_by_role("link", name="Needs assessments").click()
    expect(nurse.get_by_role("heading", name="Needs assessments")).to_be_visible()
    nurse.locator("table").get_by_role("link").first.click()
    expect(nurse.get_by_text("Positive distress screen (7/10).")).to_be_visible()
    for suggestion in ReferralSuggestion.objects.filter(assessment=assessment).order_by("pk"):
        row = nurse.locator(f"#suggestion-{suggestion.pk}")
        row.get_by_role("button", name="Accept referral").click()
        expect(nurse.locator(f"#suggestion-{suggestion.pk}")).to_contain_text("Accepted by Grace Navigator")
    nurse.get_by_role("button", name="Generate a care plan from this assessment").click()
    expect(nurse.get_by_text("A draft care plan was generated.")).to_be_visible()
    plan = CarePlan.objects.get()
    tasks = Task.objects.filter(care_plan=plan).order_by("id")
    assert tasks.exists()
    expect(nurse.locator(f"#task-{tasks[0].pk}")).to_be_visible()
    shot(nurse, "journey-care-plan")

    # 7. The navigator completes a task and resolves a barrier.
    task = tasks[0]
    nurse.locator(f"#task-{task.pk}").get_by_role("button", name="Complete").click()
    expect(nurse.locator(f"#task-{task.pk}")).to_contain_text("Completed")
    barrier = Barrier.objects.filter(care_plan=plan).order_by("id").first()
    assert barrier is not None
    b = nurse.locator(f"#barrier-{barrier.pk}")
    b.get_by_label("How it was resolved").fill("Volunteer rides booked")
    b.get_by_role("button", name="Resolve").click()
    expect(nurse.locator(f"#barrier-{barrier.pk} h3 .badge")).to_have_text("Resolved")
    task.refresh_from_db()
    barrier.refresh_from_db()
    assert task.status == "completed" and barrier.status == "resolved"

    # 8. The program administrator's dashboard counts it all.
    linda = _page(browser, problems)
    _sign_in(linda, base, cast.admin.username)
    linda.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboard").click()
    expect(linda.get_by_role("heading", name="Program dashboard")).to_be_visible()
    expect(linda.locator("#table-sources")).to_contain_text("Web search")
    expect(linda.locator("#table-sources tbody tr")).to_have_count(1)
    expect(linda.locator("#table-sources tbody td").first).to_have_text("1")
    expect(linda.locator("#screening-rate")).to_contain_text("100%")
    expect(linda.locator("#screening-rate")).to_contain_text("1 of 1 enrolled patients screened")
    kind = barrier.get_kind_display()
    row = linda.locator("#table-barriers tbody tr", has_text=kind)
    expect(row.locator("td").nth(1)).to_have_text("1")  # resolved
    expect(linda.locator("svg.bar-chart")).to_have_count(6)
    with linda.expect_download() as download:
        linda.locator("#table-screening").locator("xpath=..").get_by_role("link", name="Download CSV").click()
    csv_text = Path(download.value.path()).read_text()
    assert csv_text.splitlines()[1] == "1,1,0,100.0"
    assert "Lena" not in csv_text and "Marsh" not in csv_text
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, category="program_measures").count() == 1
    shot(linda, "journey-dashboard")
    assert problems == [], problems
