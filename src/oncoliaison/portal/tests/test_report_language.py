"""A questionnaire is asked only in a language its publisher's official text exists in here.

ESAS-r and PRO-CTCAE are carried in English only (their official Spanish texts are not loaded: see
instruments/data/PROVENANCE.md).  A patient reading the portal in Spanish is told so, given the
care team's number, and may choose to answer the English questions; what they are told afterwards (the
guidance, a severe symptom's "call now") is in Spanish.  Staff see that the patient's language has no version.
"""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from oncoliaison.monitoring.models import Alert, SymptomReport
from oncoliaison.testing import Cast


def _spanish_patient(cast: Cast) -> Client:
    cast.lead.phone = "555-0100"
    cast.lead.save(update_fields=["phone"])
    cast.pat.preferred_language = "es"
    cast.pat.save(update_fields=["preferred_language"])
    c = Client()
    c.force_login(cast.patient_user)
    return c


def test_spanish_patient_is_told_the_questionnaire_is_only_in_english_with_the_teams_number(cast: Cast) -> None:
    r = _spanish_patient(cast).get(reverse("portal:report"))
    html = r.content.decode()
    assert r.status_code == 200 and r.headers["Content-Language"] == "es"
    assert "Este cuestionario solo está disponible en inglés" in html
    assert 'href="tel:555-0100"' in html and "Responder en inglés" in html
    # No item is shown, in English or in a translation of our own.
    assert 'name="esas-1"' not in html and "Tiredness" not in html and "Cansancio" not in html


def test_answering_in_english_shows_the_original_items_marked_as_english(cast: Cast) -> None:
    r = _spanish_patient(cast).get(reverse("portal:report"), {"instrument": "esas-r", "answer_in": "en"})
    html = r.content.decode()
    assert r.status_code == 200 and 'name="esas-1"' in html
    assert '<fieldset class="item" lang="en">' in html
    assert "Tiredness (tiredness = lack of energy)" in html
    assert "Enviar a mi equipo de atención" in html  # the page around the questions stays in Spanish


def test_a_severe_symptom_reported_in_english_is_answered_in_spanish(cast: Cast) -> None:
    r = _spanish_patient(cast).post(reverse("portal:report"),
                                    {"instrument": "esas-r", "answer_in": "en", "esas-1": "10"}, follow=True)
    html = r.content.decode()
    assert r.status_code == 200, html[:2000]
    assert SymptomReport.objects.filter(patient=cast.pat).count() == 1
    assert Alert.objects.get(patient=cast.pat).severity == "severe"
    assert 'role="alert"' in html and "Qué hacer ahora" in html
    assert "Sus respuestas indican un síntoma grave" in html and "911" in html
    assert "Your answers show" not in html


def test_a_language_the_instrument_has_is_asked_without_the_notice(cast: Cast) -> None:
    c = Client()
    c.force_login(cast.patient_user)
    html = c.get(reverse("portal:report")).content.decode()
    assert 'name="esas-1"' in html and "only available in English" not in html


def test_staff_see_that_the_patients_language_has_no_version(cast: Cast) -> None:
    _spanish_patient(cast)
    c = Client()
    c.force_login(cast.navigator)
    history = c.get(reverse("monitoring:history", args=[cast.pat.pk])).content.decode()
    assert "No Spanish version" in history and "English only" in history
    phone = c.get(reverse("monitoring:phone_report", args=[cast.pat.pk, "esas-r"])).content.decode()
    assert "No Spanish version" in phone


def test_staff_pages_stay_in_english_whatever_the_language_cookie(cast: Cast) -> None:
    c = Client()
    c.force_login(cast.navigator)
    c.cookies["django_language"] = "es"
    r = c.get(reverse("patients:detail", args=[cast.pat.pk]))
    assert r.status_code == 200 and '<html lang="en">' in r.content.decode() and "Sign out" in r.content.decode()


def test_a_spanish_browser_gets_the_sign_in_page_in_spanish(db) -> None:
    r = Client(headers={"accept-language": "es-MX,es;q=0.9"}).get(reverse("accounts:login"))
    html = r.content.decode()
    assert '<html lang="es">' in html and "Iniciar sesión" in html and "Nombre de usuario" in html


def test_needs_screens_without_a_spanish_version_say_so_and_offer_the_english_questions(cast: Cast) -> None:
    from oncoliaison.assessments.testing import load_instruments

    load_instruments(cast)
    c = _spanish_patient(cast)
    notice = c.get(reverse("portal:screen_fill", args=["ahc-hrsn-core"])).content.decode()
    assert "Este cuestionario solo está disponible en inglés" in notice and 'href="tel:555-0100"' in notice
    assert "<fieldset" not in notice
    english = c.get(reverse("portal:screen_fill", args=["ahc-hrsn-core"]), {"answer_in": "en"}).content.decode()
    assert 'lang="en"' in english and "<fieldset" in english and 'name="answer_in" value="en"' in english
