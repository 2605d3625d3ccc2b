"""A tumor board in a real browser, from the case's submission to the patient's portal.

An oncologist submits a patient from the patient's record; the coordinator accepts the case onto the agenda
and starts the meeting in presenter mode; two attendees — a radiologist of the program joining by video and a
pathologist of a partner hospital (the patient is shared with it) — follow the presenter's screen; the
coordinator records the board's conclusions and a recommendation and closes the meeting; the recommendation
is a task in the patient's care plan; the navigator releases the plain-language summary; the patient reads it
in the portal.
"""

from __future__ import annotations

import datetime as dt

from browsing import TABLET, shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.careplans.models import Task
from oncoliaison.core import clock
from oncoliaison.organisations.models import Role
from oncoliaison.patients.models import Consent, ConsentKind
from oncoliaison.testing import _staff
from oncoliaison.tumorboards import services
from oncoliaison.tumorboards.models import BoardCase, SummaryStatus


def _page(browser, problems: list[str]):  # type: ignore[no-untyped-def]
    page = browser.new_context(viewport=TABLET).new_page()
    page.set_default_timeout(15_000)
    watch_problems(page, problems)
    return page


def test_a_case_from_submission_to_the_patient_portal(live_server, transactional_db, cast, browser):
    base = live_server.url
    problems: list[str] = []
    coordinator = _staff("carl", "Carl", "Coordinator", cast.lead, Role.CLP)
    radiologist = _staff("rita", "Rita", "Radiologist", cast.lead, Role.PHYSICIAN)
    pathologist = _staff("paula", "Paula", "Pathologist", cast.partner, Role.PHYSICIAN)
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    series = services.series_create(actor=actor_for_user(coordinator), organization_id=cast.lead.pk,
                                    data=services.SeriesData(name="Breast tumor board", disease_site="breast",
                                                             coordinator_id=coordinator.pk, default_location="Room 4B",
                                                             shared_with_ids=[cast.partner.pk]))
    meeting = services.meeting_schedule(actor=actor_for_user(coordinator), series=series, data=services.MeetingData(
        starts_at=clock.now() + dt.timedelta(days=3), generate_video=True))

    # 1. The oncologist submits the patient from the patient's record.
    onc = _page(browser, problems)
    sign_in(onc, base, "sam", f"/patients/{cast.pat.pk}/")
    onc.get_by_role("link", name="Submit to a tumor board").click()
    onc.get_by_label("Clinical question for the board").fill("Neoadjuvant chemotherapy or surgery first?")
    onc.get_by_label("Prospective").select_option("true")
    onc.get_by_label("Rita Radiologist").check()
    onc.get_by_label("Paula Pathologist").check()
    onc.get_by_role("button", name="Submit the case").click()
    expect(onc.get_by_text("The case was submitted")).to_be_visible()
    case = BoardCase.objects.get()

    # 2. The coordinator accepts it onto the agenda and starts the meeting in presenter mode.
    coord = _page(browser, problems)
    sign_in(coord, base, "carl", f"/tumor-boards/meetings/{meeting.pk}/")
    coord.get_by_role("button", name="Accept Pat Patient").click()
    expect(coord.get_by_role("heading", name="Agenda", exact=True)).to_be_visible()
    expect(coord.locator(f"#agenda-{case.pk}")).to_contain_text("Neoadjuvant chemotherapy or surgery first?")
    shot(coord, "tumor-board-meeting")
    coord.get_by_role("button", name="Start the meeting (presenter mode)").click()
    expect(coord.get_by_role("navigation", name="Agenda")).to_be_visible()

    # 3. Two attendees join: the radiologist by video, the partner's pathologist in the room.
    remote = _page(browser, problems)
    sign_in(remote, base, "rita", f"/tumor-boards/meetings/{meeting.pk}/")
    expect(remote.get_by_role("link", name=meeting.video_link)).to_be_visible()
    remote.get_by_label("Your specialty").select_option("diagnostic_radiology")
    remote.get_by_role("button", name="Join by video").click()
    expect(remote.get_by_role("link", name="Open the video room")).to_have_attribute("href", meeting.video_link)
    partner = _page(browser, problems)
    sign_in(partner, base, "paula", f"/tumor-boards/meetings/{meeting.pk}/")
    partner.get_by_label("Your specialty").select_option("pathology")
    partner.get_by_role("button", name="I am in the room").click()
    for screen in (remote, partner):
        expect(screen.get_by_text("Waiting for the presenter to open a case.")).to_be_visible()

    # 4. The coordinator presents the case; both attendees' screens follow without reloading.
    coord.get_by_role("button", name="Present Pat Patient").click()
    for screen in (remote, partner):
        expect(screen.locator("#stage")).to_contain_text("Neoadjuvant chemotherapy or surgery first?", timeout=10_000)
    shot(partner, "tumor-board-follow")

    # 5. The board's conclusions and a recommendation, recorded in presenter mode; then the meeting closes.
    coord.get_by_label("Stage discussed").check()
    coord.get_by_label("Stage agreed by the board").fill("cT2 cN1 cM0, IIB")
    coord.get_by_label("Guideline body").fill("NCCN")
    coord.get_by_role("button", name="Save the discussion").click()
    expect(coord.get_by_text("The board's discussion was recorded.")).to_be_visible()
    coord.get_by_label("Kind").select_option("systemic")
    coord.get_by_label("Description").fill("Neoadjuvant chemotherapy, then re-stage")
    coord.get_by_label("Responsible clinician").select_option(str(cast.oncologist.pk))
    coord.get_by_role("button", name="Add the recommendation").click()
    expect(coord.get_by_text("Recommendation recorded.")).to_be_visible()
    shot(coord, "tumor-board-present")
    coord.goto(f"{base}/tumor-boards/meetings/{meeting.pk}/")
    coord.get_by_role("button", name="Close the meeting").click()
    expect(coord.get_by_text("The meeting is closed")).to_be_visible()
    assert {(a.user_id, a.organization_id, a.mode) for a in meeting.attendance.all()} == {
        (radiologist.pk, cast.lead.pk, "virtual"), (pathologist.pk, cast.partner.pk, "in_person")}

    # 6. The recommendation is a task in the patient's care plan, owned by the oncologist.
    task = Task.objects.get(patient=cast.pat)
    assert task.owner_id == cast.oncologist.pk and "Neoadjuvant chemotherapy" in task.description
    onc.goto(f"{base}/careplans/{task.care_plan_id}/")
    expect(onc.locator(f"#task-{task.pk}")).to_contain_text("Tumor board")

    # 7. The navigator reviews the plain-language summary and releases it to the patient.
    nav = _page(browser, problems)
    sign_in(nav, base, "grace", f"/tumor-boards/cases/{case.pk}/")
    nav.get_by_label("Plain-language summary").fill(
        "Your care team met and recommends chemotherapy before surgery. Your oncologist will call you this week.")
    nav.get_by_role("button", name="Release to the patient").click()
    expect(nav.get_by_text("The summary was released to the patient's portal.")).to_be_visible()
    case.refresh_from_db()
    assert case.summary_status == SummaryStatus.RELEASED

    # 8. The patient reads it in the portal.
    patient = _page(browser, problems)
    sign_in(patient, base, "pat", "/portal/")
    expect(patient.get_by_role("heading", name="Your care team's review")).to_be_visible()
    expect(patient.get_by_text("recommends chemotherapy before surgery")).to_be_visible()
    shot(patient, "tumor-board-portal")
    assert problems == [], problems
