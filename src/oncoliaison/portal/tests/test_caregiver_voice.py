"""The portal speaks to a caregiver as the caregiver, never as if they were the patient: every page of
reporting and questionnaires names the person they care for and says "the care team"; the patient still
reads the same pages in the second person.  In English and in Spanish."""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oncoliaison.patients.models import Consent, ProxyScope
from oncoliaison.testing import Cast

pytestmark = pytest.mark.skipif(not apps.is_installed("oncoliaison.monitoring"), reason="monitoring not installed")

# What the portal says to the patient about the patient: none of it may reach a caregiver.
TO_THE_PATIENT = {
    "en": ["How are you feeling?", "describes how you feel", "Send to my care team", "If you have a fever", "If you feel worse", "If you need help now",
           "Your care team will contact you", "Looking after yourself", "your report was sent",
           "about your needs", "Your answers show", "Your answers do not show", "A nurse will contact you",
           "what is worrying you", "applies to you"],
    "es": ["¿Cómo se siente?", "cómo se siente ahora", "Si tiene fiebre", "Si se siente peor", "Si necesita ayuda ahora",
           "Su equipo de atención se comunicará con usted", "Cuidarse", "Sus respuestas indican"],
}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _client(user, language: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(headers={"accept-language": language})
    c.force_login(user)
    return c


def _caregiver_pages(c: Client, cast: Cast) -> dict[str, str]:
    pk = cast.pat.pk
    pages = {
        "home": c.get(reverse("portal:for_patient", args=[pk])),
        "report": c.get(reverse("portal:report_for", args=[pk]), {"answer_in": "en"}),
        "screens": c.get(reverse("portal:screens_for", args=[pk])),
    }
    sent = c.post(reverse("portal:report_for", args=[pk]),
                  {"instrument": "esas-r", "esas-1": "9", "anything-else": "Fever 38.5 after chemo", "answer_in": "en"},
                  follow=True)
    pages["sent"] = sent
    for name, r in pages.items():
        assert r.status_code == 200, (name, r.status_code)
    return {name: _text(r.content.decode()) for name, r in pages.items()}


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_caregiver_is_spoken_to_as_the_caregiver(cast: Cast, language: str) -> None:
    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    with translation.override(language):
        pages = _caregiver_pages(_client(cast.caregiver, language), cast)
    name = cast.pat.given_name
    for page, text in pages.items():
        for phrase in TO_THE_PATIENT[language]:
            assert phrase not in text, (page, phrase)
    if language == "en":
        assert f"How is {name} feeling?" in pages["report"]
        assert f"If {name} has a fever" in pages["report"]
        assert f"your report for {name} was sent" in pages["sent"]
        assert "A nurse from the care team will call within the hour" in pages["sent"]
        assert f"Questionnaires about {name}'s needs" in pages["screens"]
    else:
        assert f"¿Cómo se siente {name}?" in pages["report"]
        assert f"su reporte sobre {name} fue enviado" in pages["sent"]
        assert "Si la persona que usted cuida tiene fiebre" in pages["sent"]


def test_the_patient_is_still_spoken_to_as_you(cast: Cast) -> None:
    c = _client(cast.patient_user, "en")
    report = _text(c.get(reverse("portal:report")).content.decode())
    assert "How are you feeling?" in report and "If you have a fever" in report
    sent = _text(c.post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "9"}, follow=True).content.decode())
    assert "your report was sent" in sent and "A nurse from your care team will call you" in sent
