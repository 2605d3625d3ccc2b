"""Break-glass as the people would meet it: the administrator cannot open a patient's record, breaks the
glass with a reason for one patient, reads her message; the patient sees who read it and how; the privacy
officer reviews the session with everything it opened."""

from __future__ import annotations

from browsing import shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.messaging.services import thread_start
from oncoliaison.organisations.models import Role
from oncoliaison.testing import _staff


def test_break_glass_from_request_to_privacy_review(live_server, transactional_db, cast, browser):
    thread = thread_start(actor=actor_for_user(cast.patient_user), kind="patient", subject="Letters",
                          body="My letters go to my old address.", patient=cast.pat)
    _staff("pia", "Pia", "Privacy", cast.lead, Role.PRIVACY_OFFICER)

    # The administrator: the record is not there for her ...
    admin = browser.new_context().new_page()
    problems = watch_problems(admin)
    sign_in(admin, live_server.url, cast.admin.username)
    expect(admin.get_by_role("navigation", name="Main").get_by_role("link", name="Patients")).to_have_count(0)
    admin.goto(f"{live_server.url}/patients/{cast.pat.pk}/")
    expect(admin.get_by_role("heading", name="Pat Patient")).to_have_count(0)
    problems.clear()  # the 404 is what she should meet
    # ... until she breaks the glass for this one patient, with a reason.
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Emergency access").click()
    admin.get_by_label("Patient's MRN").fill("L-1001")
    admin.get_by_label("Patient's date of birth").fill("1961-04-02")
    admin.get_by_label("Reason").select_option("HOPERAT")
    admin.get_by_label("Why you need this record now").fill(
        "The patient asked by phone to correct her address; her navigator is away today.")
    admin.get_by_label("I understand").check()
    admin.get_by_role("button", name="Open the record").click()
    expect(admin.get_by_role("heading", name="Pat Patient")).to_be_visible()
    expect(admin.locator(".emergency-banner")).to_contain_text("Emergency access")
    shot(admin, "emergency-access-open")
    admin.goto(f"{live_server.url}/messages/{thread.pk}/")
    expect(admin.get_by_text("My letters go to my old address.")).to_be_visible()
    admin.get_by_role("button", name="End emergency access now").click()
    expect(admin.get_by_text("Emergency access ended.")).to_be_visible()
    admin.goto(f"{live_server.url}/patients/{cast.pat.pk}/")
    expect(admin.get_by_role("heading", name="Pat Patient")).to_have_count(0)
    problems.clear()
    admin.context.close()

    # The patient sees the read receipt, truthfully.
    patient = browser.new_context().new_page()
    sign_in(patient, live_server.url, cast.patient_user.username)
    patient.goto(f"{live_server.url}/messages/{thread.pk}/")
    expect(patient.get_by_text("Read by Linda Admin (emergency access)")).to_be_visible()
    patient.context.close()

    # The privacy officer reviews the session: who, why, what was opened.
    officer = browser.new_context().new_page()
    officer_problems = watch_problems(officer)
    sign_in(officer, live_server.url, "pia")
    officer.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy review").click()
    session = officer.locator(".emergency-session")
    expect(session).to_have_count(1)
    expect(session.get_by_role("heading")).to_contain_text("Linda Admin")
    expect(session).to_contain_text("Program operations")
    expect(session).to_contain_text("correct her address")
    expect(session.get_by_role("row")).not_to_have_count(2)  # header plus the accesses
    expect(session).to_contain_text("Thread")
    shot(officer, "emergency-access-review")
    officer.get_by_label("Review finding").fill("Justified: address corrected at the patient's request.")
    officer.get_by_role("button", name="Record the review").click()
    expect(officer.get_by_text("Review recorded.")).to_be_visible()
    expect(officer.get_by_text("No sessions to review.")).to_be_visible()
    assert officer_problems == [], officer_problems
    assert problems == [], problems
