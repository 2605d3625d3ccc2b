"""Symptom alerts safe for daily use, as the care team meets them in a real browser:

1. the red flag a patient wrote (a fever after chemotherapy) is the first reason of the alert, whole, with the
   patient's own words — on the alert worklist and on the navigator's worklist;
2. after the CLP reassigns Grace's caseload to Daniel, a new severe alert is Daniel's ("assigned to me");
5. recording an action needs a choice and a note, and "Escalated to physician" reaches the treating
   oncologist, who reads the note on their worklist;
7. disabling an instrument shows the patients affected and needs a reason and a confirmation; the severe
   rule cannot be switched off; the CLP's worklist lists the schedules left unanswerable.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server,
under the strict CSP; the only failed requests are the 422 answers the test provokes on purpose.
"""

from __future__ import annotations

import datetime as dt

from browsing import settled, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.instruments.models import Instrument, InstrumentPermission
from oncoliaison.instruments.selectors import grant_record
from oncoliaison.monitoring import services as monitoring
from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert, AlertAction
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.programs.models import ProgramEpisode
from oncoliaison.programs.services import episode_enroll
from oncoliaison.testing import PASSWORD

FEVER = "Fever of 38.6 since last night, a week after my chemotherapy"
ESAS_LABELS = ("Tiredness", "Drowsiness", "Nausea", "Lack of appetite", "Shortness of breath", "Depression",
               "Anxiety", "Wellbeing")


def _staff(username: str, given: str, family: str, org, role: str) -> User:  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=given, last_name=family,
                                    kind=UserKind.STAFF, email=f"{username}@example.org")
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def _severe_report(cast, by: User) -> Alert:  # type: ignore[no-untyped-def]
    esas = Instrument.objects.get(code="esas-r")
    answers = {f"esas-{i}": 8 for i in range(1, 10)} | {"anything-else": FEVER}
    result = monitoring.report_submit(actor=actor_for_user(by), patient=cast.pat, instrument=esas, answers=answers,
                                      source="phone")
    assert result.alert is not None
    return result.alert


def _unexpected(problems: list[str], *provoked: str) -> list[str]:
    """Problems other than the 422 answers the test provoked (and the console line each one logs)."""
    return [p for p in problems if not any(path in p for path in provoked)
            and "status of 422 (Unprocessable" not in p]


def test_red_flag_is_first_whole_and_in_the_patients_words(live_server, transactional_db, cast, browser_page):
    load_instruments()  # the live server's database is emptied between tests
    page = browser_page
    problems = watch_problems(page)
    sign_in(page, live_server.url, cast.navigator.username)
    page.goto(f"{live_server.url}/monitoring/patients/{cast.pat.pk}/phone/esas-r/")
    page.get_by_label("Pain").select_option("8")
    for label in ESAS_LABELS:
        page.get_by_label(label, exact=False).first.select_option("8")
    page.get_by_label("Anything else").fill(FEVER)
    page.get_by_role("button", name="Save report and check alerts").click()
    expect(page.get_by_text("Severe alert")).to_be_visible()
    alert = Alert.objects.get()

    page.get_by_role("link", name="symptom alert worklist").click()
    why = page.locator(f"#alert-{alert.pk}").get_by_role("list", name="Why this alert")
    expect(why.get_by_role("listitem").first).to_have_text("Red-flag phrase: “fever”")
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text(f"In the patient's words: “{FEVER}”")
    expect(page.locator(f"#alert-{alert.pk}")).not_to_contain_text("Red-flag…")

    page.goto(f"{live_server.url}/worklist/")
    section = page.locator("section[aria-labelledby='h-alerts']")
    expect(section.get_by_role("list", name="Why this alert").get_by_role("listitem").first).to_have_text(
        "Red-flag phrase: “fever”")
    expect(section).to_contain_text(FEVER)
    assert problems == []


def test_after_caseload_reassignment_the_new_alert_is_daniels(live_server, transactional_db, cast, browser_page):
    load_instruments()
    daniel = _staff("daniel", "Daniel", "Reyes", cast.lead, Role.NAVIGATOR)
    clp = _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)
    episode_enroll(actor=actor_for_user(clp), navigator_id=cast.navigator.pk, clp_id=clp.pk, patient=cast.pat,
                   organization_id=cast.lead.pk)
    page = browser_page
    problems = watch_problems(page)

    # The CLP moves Grace's caseload to Daniel.
    sign_in(page, live_server.url, clp.username, "/worklist/reassign/")
    page.get_by_label("From navigator").select_option(label="Grace Navigator")
    page.get_by_label("To navigator").select_option(label="Daniel Reyes")
    page.get_by_label("Hand-off note").fill("Grace is on leave until the 14th")
    page.get_by_role("button", name="Reassign").click()
    expect(page.get_by_role("status").filter(has_text="Reassigned")).to_contain_text("Reassigned 1 program episode(s)")
    assert ProgramEpisode.objects.get(patient=cast.pat).navigator_id == daniel.pk

    # A new severe report: Daniel finds it assigned to him, and Grace is no longer on the care team.
    alert = _severe_report(cast, cast.oncologist)
    assert alert.assigned_to_id == daniel.pk
    page.context.clear_cookies()
    sign_in(page, live_server.url, daniel.username, "/monitoring/alerts/?mine=1")
    expect(page.locator("caption")).to_have_text("1 open alert")
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("Navigator: Daniel Reyes")
    page.goto(f"{live_server.url}/worklist/")
    expect(page.locator("section[aria-labelledby='h-handed']")).to_contain_text("Grace is on leave until the 14th")
    page.goto(f"{live_server.url}/patients/{cast.pat.pk}/")
    team = page.locator("section[aria-labelledby='team']")
    expect(team).to_contain_text("Daniel Reyes")
    expect(team).not_to_contain_text("Grace Navigator")
    assert problems == []


def test_recording_needs_a_choice_and_a_note_and_escalation_reaches_the_oncologist(
    live_server, transactional_db, cast, browser_page
):
    load_instruments()
    _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)
    alert = _severe_report(cast, cast.navigator)
    page = browser_page
    problems = watch_problems(page)
    sign_in(page, live_server.url, cast.navigator.username, "/monitoring/alerts/")
    row = settled(page.locator(f"#alert-{alert.pk}"))
    # Nothing is pre-selected: "Record" as the page opens records nothing.
    expect(row.get_by_label("Action taken")).to_have_value("")
    row.get_by_role("button", name="Record").click()
    expect(page.locator(f"#alert-{alert.pk}").get_by_role("alert")).to_contain_text("Choose the action taken")
    # A call without a note is refused too.
    row = settled(page.locator(f"#alert-{alert.pk}"))
    row.get_by_label("Action taken").select_option("called_patient")
    row.get_by_role("button", name="Record").click()
    expect(page.locator(f"#alert-{alert.pk}").get_by_role("alert")).to_contain_text("Write what was discussed")
    assert not AlertAction.objects.filter(alert=alert).exists()

    row = settled(page.locator(f"#alert-{alert.pk}"))
    row.get_by_label("Action taken").select_option("escalated_physician")
    row.get_by_label("Note").fill("Febrile a week after FOLFOX: please assess for neutropenic sepsis")
    row.get_by_role("button", name="Record").click()
    expect(page.locator(f"#alert-{alert.pk}")).to_contain_text("Escalated to Sam Oncologist")
    alert.refresh_from_db()
    assert alert.escalated_to_id == cast.oncologist.pk

    page.context.clear_cookies()
    sign_in(page, live_server.url, cast.oncologist.username, "/worklist/")
    escalated = page.locator("section[aria-labelledby='h-escalations']")
    expect(escalated).to_contain_text("please assess for neutropenic sepsis")
    escalated.get_by_role("link", name="Open the alert").click()
    expect(page.get_by_role("heading", name="Severe symptom alert")).to_be_visible()
    expect(page.get_by_role("list", name="Why this alert").get_by_role("listitem").first).to_have_text(
        "Red-flag phrase: “fever”")
    assert _unexpected(problems, f"/monitoring/alerts/{alert.pk}/action/") == []


def test_switching_monitoring_off_shows_who_is_affected_and_is_never_one_click(
    live_server, transactional_db, cast, browser_page
):
    load_instruments()
    clp = _staff("maria", "Maria", "Liaison", cast.lead, Role.CLP)
    proctcae = Instrument.objects.get(code="pro-ctcae")
    monitoring.instrument_permission_record(
        actor=actor_for_user(cast.admin), instrument=proctcae, organization_id=cast.lead.pk,
        data=monitoring.PermissionData("National Cancer Institute", "NCI-2026-014", dt.date(2026, 1, 5)))
    monitoring.schedule_create(actor=actor_for_user(cast.navigator), patient=cast.pat, data=monitoring.ScheduleData(
        proctcae.pk, "Active chemotherapy (FOLFOX)", 7, proctcae_terms=[9, 16]))
    page = browser_page
    problems = watch_problems(page)

    sign_in(page, live_server.url, cast.admin.username, "/monitoring/instruments/")
    page.get_by_role("link", name="Disable…").click()
    affected = page.locator("section[aria-labelledby='affected-title']")
    expect(affected).to_contain_text("1 active reporting schedule")
    # The administrator manages the licence, not the patients: the count, not the names (minimum necessary).
    expect(affected).not_to_contain_text(cast.pat.display_name)
    page.get_by_role("button", name="Disable the permission").click()
    expect(page.get_by_role("alert")).to_contain_text("Say why")
    assert grant_record(InstrumentPermission.objects.get()).standing
    page.get_by_label("Reason").fill("NCI licence not renewed")
    page.get_by_label("I understand").check()
    page.get_by_role("button", name="Disable the permission").click()
    expect(page.get_by_role("status").filter(has_text="permission")).to_contain_text("The permission was disabled")
    assert not grant_record(InstrumentPermission.objects.get(kind="grant")).standing

    # The severe-symptom rule cannot be switched off.
    page.goto(f"{live_server.url}/monitoring/rules/")
    severe = page.locator("section[aria-labelledby='rule-severe']")
    severe.get_by_label("On").uncheck()
    severe.get_by_role("button", name="Save").click()
    expect(page.locator("section[aria-labelledby='rule-severe']").get_by_role("alert")).to_contain_text(
        "change the thresholds instead")

    page.context.clear_cookies()
    sign_in(page, live_server.url, clp.username, "/worklist/")
    off = page.locator("section[aria-labelledby='h-monitoring-off']")
    expect(off).to_contain_text(cast.pat.display_name)
    expect(off).to_contain_text("Active chemotherapy (FOLFOX)")
    assert _unexpected(problems, "/monitoring/instruments/permissions/", "/monitoring/rules/") == []
