"""Entering and correcting the cancer record in a real browser: from the patient page to the oncology summary,
the oncologist acts on the summary's open issues (records an ECOG performance status and a staging
assessment), corrects a stage category with a reason (the history keeps the previous version), adds a
biomarker result and withdraws it as entered in error — with no console error and no failed request.

Drives Debian's Chromium (never a downloaded browser) through Playwright against pytest-django's live server.
Set ONCOLIAISON_SCREENSHOTS=/some/dir to keep screenshots of the pages.
"""

from __future__ import annotations

import datetime as dt

from browsing import shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.core import clock
from oncoliaison.oncology.models import (
    CancerCondition,
    CancerRecordRevision,
    CancerStage,
    ClinicalObservation,
)


def test_enter_and_correct_the_cancer_record(live_server, transactional_db, cast, browser_page):
    CancerCondition.objects.create(patient=cast.pat, code="254837009", display="Malignant neoplasm of breast",
                                   diagnosed_on=clock.today() - dt.timedelta(days=40))
    page = browser_page
    problems = watch_problems(page)
    today = clock.today().isoformat()
    sign_in(page, live_server.url, cast.oncologist.username)

    # 1. The patient page links the oncology summary; codes show by their system's name.
    page.goto(f"{live_server.url}/patients/{cast.pat.pk}/")
    expect(page.get_by_text("SNOMED CT 254837009")).to_be_visible()
    page.get_by_role("link", name="Oncology summary").first.click()
    expect(page.get_by_role("heading", name="Open issues")).to_be_visible()
    expect(page.get_by_text("No performance status (ECOG or Karnofsky) in the last 90 days.")).to_be_visible()
    shot(page, "cancer-record-summary-before")

    # 2. Act on the open issue: ECOG with its published definitions as the choices.
    page.get_by_role("link", name="Record a performance status").click()
    expect(page.get_by_role("heading", name="Record a performance status (ECOG)")).to_be_visible()
    page.get_by_label("1 — Restricted in physically strenuous activity but ambulatory").check()
    page.get_by_label("Date of the assessment").fill(today)
    shot(page, "cancer-record-ecog-form")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded a performance status (ECOG).")).to_be_visible()
    expect(page.get_by_text("ECOG 1", exact=True)).to_be_visible()
    expect(page.get_by_text("No performance status (ECOG or Karnofsky) in the last 90 days.")).to_have_count(0)
    expect(page.locator("#perf").locator("xpath=..")).to_contain_text("Entered by Sam Oncologist")

    # 3. A staging assessment: first a mistake the form explains, then T, N, M and the group.
    page.get_by_role("link", name="Record a staging assessment").first.click()
    page.get_by_label("Date of staging").fill(today)
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_role("alert")).to_contain_text("Enter at least one of T, N, M or the stage group.")
    page.get_by_label("T (primary tumor)").select_option("T3")
    page.get_by_label("N (regional nodes)").select_option("N0")
    page.get_by_label("M (distant metastases)").select_option("M0")
    page.get_by_label("Stage group").select_option("IIB")
    page.get_by_role("button", name="Record").click()
    expect(page.get_by_text("Recorded a staging assessment.")).to_be_visible()
    stage_table = page.get_by_role("table", name="Staging assessments, newest first")
    expect(stage_table).to_contain_text("cT3")
    expect(stage_table).to_contain_text("IIB")
    expect(page.get_by_text("No stage is recorded for the active primary cancer.")).to_have_count(0)

    # 4. Correct the T category, with a reason; the previous version stays in the history.
    stage_table.get_by_role("link", name="cT3").click()
    expect(page.get_by_role("heading", name="Correct a staging assessment")).to_be_visible()
    page.get_by_label("T (primary tumor)").select_option("T2")
    page.get_by_label("Reason for the correction").fill("Re-read of the CT: tumour 4.5 cm")
    shot(page, "cancer-record-correct-stage")
    page.get_by_role("button", name="Save the correction").click()
    expect(page.get_by_text("The correction was recorded; the previous version is kept.")).to_be_visible()
    expect(stage_table).to_contain_text("cT2")
    t_row = CancerStage.objects.get(kind="T")
    assert (t_row.value_display, t_row.status, t_row.version) == ("cT2", "amended", 2)
    revision = CancerRecordRevision.objects.get(record_type="stage", record_id=t_row.pk)
    assert revision.snapshot["value_display"] == "cT3"
    stage_table.get_by_role("link", name="cT2").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    expect(page.get_by_text("Re-read of the CT: tumour 4.5 cm")).to_be_visible()
    page.go_back()

    # 5. A biomarker result, then withdrawn as entered in error (wrong patient).
    page.get_by_role("link", name="Add a biomarker result").click()
    page.get_by_label("Biomarker test").select_option(label=(
        "Estrogen receptor Ag [Presence] in Breast cancer specimen by Immune stain"))
    page.get_by_label("Result (for positive / negative tests)").select_option(label="Positive")
    page.get_by_label("Date of the result").fill(today)
    page.get_by_role("button", name="Record").click()
    markers = page.get_by_role("table", name="Tumor markers, newest first")
    expect(markers).to_contain_text("Positive")
    markers.get_by_role("link", name="Correct Estrogen receptor").click()
    page.get_by_label("Why is this entry wrong?").fill("Result belongs to another patient")
    page.get_by_role("button", name="Mark as entered in error").click()
    expect(page.get_by_text("The entry was marked as entered in error; it stays in the history.")).to_be_visible()
    expect(page.get_by_text("No tumor marker recorded.")).to_be_visible()
    assert ClinicalObservation.objects.get().status == "entered-in-error"
    shot(page, "cancer-record-summary-after")

    # The only failed request is the incomplete staging form (400 with its message), on purpose.
    expected = {f"400 {live_server.url}/oncology/patients/{cast.pat.pk}/record/stage/new/",
                "Failed to load resource: the server responded with a status of 400 (Bad Request)"}
    assert [p for p in problems if p not in expected] == []
