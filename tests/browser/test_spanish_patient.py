"""A Spanish-speaking patient reports a severe symptom, end to end in a real browser, meeting no English
sentence on the way (text marked lang="en" — the questionnaire's own English questions, which the patient
chooses to answer — excepted):

a Spanish browser opens the portal → the sign-in page is in Spanish → the portal home greets the patient in
Spanish → "Informar síntomas" says the questionnaire (ESAS-r) exists only in English here, gives the care
team's number, and offers to answer in English → the patient marks pain 10 of 10 → the confirmation tells
them, in Spanish, that the symptom is severe and what to do now → the navigator's worklist has the severe
alert.

Drives Debian's Chromium through Playwright against pytest-django's live server, with no script error, CSP
violation or failed request.
"""

from __future__ import annotations

from browsing import PHONE, SIGN_IN_ES, shot, sign_in, watch_problems
from playwright.sync_api import expect

from oncoliaison.monitoring.instruments import load_instruments
from oncoliaison.monitoring.models import Alert
from oncoliaison.portal.tests.spanish_walk import english_runs

DESK = {"width": 1280, "height": 900}
NAMES = ("Pat Patient", "Pat", "Grace Navigator", "Sam Oncologist", "Lead Cancer Program", "OncoLiaison",
         "Oncology care team", "ESAS-r")


def _no_english(page) -> None:  # type: ignore[no-untyped-def]
    assert english_runs(page.content(), NAMES) == [], page.url


def test_spanish_patient_reports_a_severe_symptom_without_meeting_english(
    live_server, transactional_db, cast, browser
):
    load_instruments()  # the instruments come from a data migration, which an earlier live-server test flushed
    cast.pat.preferred_language = "es"
    cast.pat.save(update_fields=["preferred_language"])
    cast.lead.phone = "555-0100"
    cast.lead.save(update_fields=["phone"])
    base = live_server.url
    problems: list[str] = []

    context = browser.new_context(viewport=PHONE, locale="es-ES")
    page = context.new_page()
    page.set_default_timeout(30_000)
    watch_problems(page, problems)

    # The sign-in page answers the browser's language.
    page.goto(f"{base}/portal/")
    expect(page.get_by_role("heading", name="Iniciar sesión en OncoLiaison")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    _no_english(page)
    sign_in(page, base, cast.patient_user.username, "/portal/", labels=SIGN_IN_ES)

    expect(page.get_by_role("heading", name="Hola, Pat")).to_be_visible()
    expect(page.get_by_role("button", name="Cerrar sesión")).to_be_visible()
    _no_english(page)
    shot(page, "portal-es-home")

    page.get_by_role("link", name="Informar síntomas").click()
    notice = page.locator("section[aria-labelledby='not-in-language']")
    expect(notice.get_by_role("heading", name="Este cuestionario solo está disponible en inglés")).to_be_visible()
    expect(notice.get_by_role("link", name="555-0100")).to_have_attribute("href", "tel:555-0100")
    _no_english(page)
    shot(page, "portal-es-report-notice")

    page.get_by_role("button", name="Responder en inglés").click()
    pain = page.get_by_role("group", name="Pain", exact=True)
    expect(pain).to_have_attribute("lang", "en")
    pain.get_by_label("10", exact=True).check()
    _no_english(page)  # only the questions (marked English) are in English
    page.get_by_role("button", name="Enviar a mi equipo de atención").click()

    expect(page.get_by_role("heading", name="Gracias: su informe fue enviado")).to_be_visible()
    guidance = page.get_by_role("alert").filter(has=page.get_by_role("heading", name="Qué hacer ahora"))
    expect(guidance).to_contain_text("Sus respuestas indican un síntoma grave.")
    expect(guidance).to_contain_text("911")
    expect(guidance.get_by_role("listitem").filter(has_text="Dolor:")).to_be_visible()
    _no_english(page)
    shot(page, "portal-es-report-done")

    alert = Alert.objects.get(patient=cast.pat)
    assert alert.severity == "severe" and alert.status == "open"

    # The navigator's worklist (in English) has the alert.
    nurse = browser.new_context(viewport=DESK).new_page()
    nurse.set_default_timeout(30_000)
    watch_problems(nurse, problems)
    sign_in(nurse, base, cast.navigator.username, "/monitoring/alerts/")
    row = nurse.locator(f"#alert-{alert.pk}")
    expect(row).to_contain_text("Severe")
    expect(row).to_contain_text("Pain: score 10 of 10")
    assert problems == []
    context.close()
