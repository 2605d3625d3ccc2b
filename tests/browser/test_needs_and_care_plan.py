"""The needs-assessment journey in a real browser: the navigator fills the Distress Thermometer on the patient's
behalf, accepts and rejects the proposed referrals inline (htmx), generates the care plan, completes a task and
resolves a barrier inline — under the strict CSP, with no console error and no failed request.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server.
Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

from browsing import shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.assessments.models import Assessment, SuggestionStatus
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.careplans.models import Barrier, CarePlan, Task


def test_distress_screen_to_care_plan(live_server, transactional_db, cast, browser_page):
    load_instruments(cast)
    page = browser_page
    problems = watch_problems(page)

    sign_in(page, live_server.url, cast.navigator.username)

    # 1. From the patient summary to the assessments, then fill the DT on the patient's behalf.
    page.goto(f"{live_server.url}/patients/{cast.pat.pk}/")
    page.get_by_role("link", name="Needs assessments").click()
    expect(page.get_by_role("heading", name="Needs assessments")).to_be_visible()
    page.get_by_role("link", name="NCCN Distress Thermometer and Problem List").click()
    page.get_by_label("6", exact=True).check()
    page.get_by_label("Worry or anxiety").check()
    page.get_by_label("Finances").check()
    page.get_by_label("Transportation").check()
    shot(page, "care-plan-form")
    page.get_by_role("button", name="Record the assessment").click()

    # 2. The result: positive, with reasons and proposed referrals.
    expect(page.get_by_text("Positive distress screen (6/10).")).to_be_visible()
    assessment = Assessment.objects.get()
    psych = assessment.suggestions.get(service="psychology")
    money = assessment.suggestions.get(service="financial_counselling")
    row = page.locator(f"#suggestion-{psych.pk}")
    row.get_by_role("button", name="Accept referral").click()
    expect(page.locator(f"#suggestion-{psych.pk}")).to_contain_text("Accepted by Grace Navigator")
    money_row = page.locator(f"#suggestion-{money.pk}")
    money_row.get_by_label("Note").fill("Already has a financial counsellor")
    money_row.get_by_role("button", name="Reject").click()
    expect(page.locator(f"#suggestion-{money.pk}")).to_contain_text("Rejected by Grace Navigator")
    shot(page, "care-plan-result")
    psych.refresh_from_db()
    money.refresh_from_db()
    assert (psych.status, money.status) == (SuggestionStatus.ACCEPTED, SuggestionStatus.REJECTED)

    # 3. Generate the care plan.
    page.get_by_role("button", name="Generate a care plan from this assessment").click()
    expect(page.get_by_text("A draft care plan was generated.")).to_be_visible()
    expect(page.get_by_role("heading", name="Feel less distressed and better able to cope")).to_be_visible()
    plan = CarePlan.objects.get()
    shot(page, "care-plan-plan")

    # 4. Complete a task inline.
    task = Task.objects.filter(care_plan=plan).order_by("id").first()
    task_row = page.locator(f"#task-{task.pk}")
    task_row.get_by_role("button", name="Complete").click()
    expect(page.locator(f"#task-{task.pk}")).to_contain_text("Completed")
    expect(page.locator(f"#task-{task.pk}").get_by_role("button", name="Complete")).to_have_count(0)
    task.refresh_from_db()
    assert task.status == "completed"

    # 5. Resolve a barrier inline.
    barrier = Barrier.objects.filter(care_plan=plan).order_by("id").first()
    b = page.locator(f"#barrier-{barrier.pk}")
    b.get_by_label("How it was resolved").fill("Volunteer rides booked")
    b.get_by_role("button", name="Resolve").click()
    expect(page.locator(f"#barrier-{barrier.pk} h3 .badge")).to_have_text("Resolved")
    expect(page.locator(f"#barrier-{barrier.pk}")).to_contain_text("Volunteer rides booked")
    barrier.refresh_from_db()
    assert barrier.status == "resolved"

    # 6. Activate the plan.
    page.get_by_role("button", name="Mark active").click()
    expect(page.get_by_text("The plan status was changed.")).to_be_visible()
    shot(page, "care-plan-plan-active")
    assert problems == []
