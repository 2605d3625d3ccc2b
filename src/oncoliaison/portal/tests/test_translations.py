"""Every sentence the portal and secure messages show has its Spanish translation: a patient who chose
Spanish never meets an English sentence (or an outdated, "fuzzy" guess) in the middle of a page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oncoliaison.testing import Cast

APPS = Path(__file__).resolve().parents[2]
CATALOGUES = [APPS / app / "locale" / "es" / "LC_MESSAGES" / "django.po" for app in ("portal", "messaging")]
# The shared catalogue (LOCALE_PATHS): the shared templates (sign-in, account, record, errors, the page
# frame), the self-referral form, and the words of other apps a patient reads (roles, goals, choices).
PROJECT = APPS / "locale" / "es" / "LC_MESSAGES" / "django.po"
PROJECT_SOURCES = [APPS / "templates", APPS / "referrals", APPS / "accounts", APPS / "patients", APPS / "careplans",
                   APPS / "monitoring" / "templates" / "monitoring" / "_guidance.html"]


def _entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry of a .po file.  A plural entry's msgstr is its forms joined
    by "|", and empty when any form is missing."""
    entries: list[tuple[str, str, bool]] = []
    flags, field, parts = "", "", dict[str, list[str]]()

    def close() -> None:
        forms = ["".join(v) for k, v in parts.items() if k.startswith("msgstr")]
        msgstr = "|".join(forms) if forms and all(forms) else ""
        entries.append(("".join(parts.get("msgid", [])), msgstr, "fuzzy" in flags))

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if parts:
                close()
            flags, field, parts = "", "", {}
        elif line.startswith("#,"):
            flags = line
        elif line.startswith(("msgid", "msgstr")):
            field, _, text = line.partition(" ")
            parts.setdefault(field, []).append(ast.literal_eval(text))
        elif line.startswith('"') and field:
            parts[field].append(ast.literal_eval(line))
    return [e for e in entries if e[0]]  # the header has an empty msgid


@pytest.mark.parametrize("path", [*CATALOGUES, PROJECT], ids=lambda p: p.parts[-5])
def test_every_sentence_has_a_reviewed_spanish_translation(path: Path) -> None:
    entries = _entries(path)
    assert len(entries) > 20
    assert [m for m, s, fuzzy in entries if not s or fuzzy] == []


@pytest.mark.parametrize("path", [*CATALOGUES, PROJECT], ids=lambda p: p.parts[-5])
def test_the_compiled_catalogue_is_current(path: Path) -> None:
    """The .mo served is built from the .po (compilemessages after every change), and a sentence found in
    two catalogues is translated the same way in both (else which one wins would depend on app order)."""
    entries = _entries(path)
    with translation.override("es"):
        stale = [m for m, s, _ in entries if "%(" not in m and "|" not in s and translation.gettext(m) != s]
    assert stale == []


def _literals(paths: list[Path]) -> set[str]:
    found = set()
    for root in paths:
        for path in [root] if root.is_file() else root.rglob("*"):
            if path.suffix in {".html", ".py"} and "tests" not in path.parts and "migrations" not in path.parts:
                for match in _LITERAL.finditer(path.read_text(encoding="utf-8")):
                    found.add(match.group(1) or match.group(2))
    return found


def test_every_literal_sentence_of_the_shared_pages_is_in_the_shared_catalogue() -> None:
    catalogue = {m for m, s, fuzzy in _entries(PROJECT) if s and not fuzzy}
    found = _literals(PROJECT_SOURCES)
    assert len(found) > 100
    assert sorted(found - catalogue) == []


def test_the_patient_guidance_has_its_spanish_text() -> None:
    """What the patient is told after reporting (program guidance, not an instrument) exists in Spanish,
    text by text, with the emergency numbers unchanged."""
    from oncoliaison.monitoring.rules import guidance_texts

    en, es = guidance_texts("en"), guidance_texts("es")
    for key in ("emergency", "severe", "moderate", "mild", "none", "when_to_call"):
        assert es[key] != en[key]
    assert set(es["self_care"]) == set(en["self_care"])
    assert all(es["self_care"][k] != en["self_care"][k] for k in en["self_care"])
    assert "911" in es["emergency"] and "988" in es["self_care"]["depression"]


_LITERAL = re.compile(r"""\{%\s*(?:translate|trans)\s+"([^"]+)"|\b(?:_|gettext|gettext_lazy|gettext_noop)\("([^"]+)"\)""")


@pytest.mark.parametrize("app", ["portal", "messaging"])
def test_every_literal_sentence_in_the_code_is_in_the_catalogue(app: str) -> None:
    """Catches a sentence added to a template or view without running makemessages."""
    catalogue = {m for m, s, fuzzy in _entries(APPS / app / "locale" / "es" / "LC_MESSAGES" / "django.po")
                 if s and not fuzzy}
    found = set()
    for path in (APPS / app).rglob("*"):
        if path.suffix in {".html", ".py"} and "tests" not in path.parts:
            for match in _LITERAL.finditer(path.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    assert len(found) > 20
    assert sorted(found - catalogue) == []


# --- the portal walked in Spanish --------------------------------------------------------------------------

# Names and data people entered, which stay as entered (the walk removes them before looking for English).
_DATA = ("Pat Patient", "Pat", "Grace Navigator", "Sam Oncologist", "Cara Carer", "Lead Cancer Program",
         "Oncology care team", "OncoLiaison", "L-1001", "pat", "cara", "ESAS-r", "PRO-CTCAE",
         "I feel tired after the infusion", "Ask about tiredness")


def _walk_data(cast: Cast) -> None:
    """What a patient's portal shows once care has started: a care plan goal, a symptom report, a message."""
    import datetime as dt

    from oncoliaison.careplans.models import CarePlan, Goal
    from oncoliaison.careplans.rules import PLAYBOOK
    from oncoliaison.instruments.models import Instrument
    from oncoliaison.messaging.services import thread_start
    from oncoliaison.monitoring.services import report_submit

    plan = CarePlan.objects.create(patient=cast.pat, organization=cast.lead, title="Plan", status="active",
                                   period_start=dt.date(2026, 11, 1))
    Goal.objects.create(care_plan=plan, description=PLAYBOOK["fertility"].goal, need="fertility")
    esas = Instrument.objects.get(code="esas-r")
    report_submit(actor=cast.actor(cast.patient_user), patient=cast.pat, instrument=esas,
                  answers={"esas-1": 3, "esas-2": 4}, source="portal", channel="web")
    thread_start(actor=cast.actor(cast.patient_user), kind="patient", patient=cast.pat, subject="Ask about tiredness",
                 body="I feel tired after the infusion")


def _spanish(client: Client) -> Client:
    r = client.post(reverse("portal:set_language"), {"language": "es", "next": "/portal/"})
    assert r.status_code == 302
    return client


def _pages(cast: Cast) -> list[tuple[str, Client, str]]:
    from oncoliaison.messaging.models import Thread

    patient, carer, anonymous = Client(), Client(), Client()
    patient.force_login(cast.patient_user)
    carer.force_login(cast.caregiver)
    thread = Thread.objects.get(patient=cast.pat)
    pid = cast.pat.pk
    return [
        ("patient", patient, "/"),
        ("patient", patient, reverse("portal:home")),
        ("patient", patient, reverse("portal:report")),
        ("patient", patient, reverse("portal:report") + "?instrument=esas-r"),
        ("patient", patient, reverse("portal:support")),
        ("patient", patient, reverse("portal:screens")),
        ("patient", patient, reverse("messaging:inbox")),
        ("patient", patient, reverse("messaging:new")),
        ("patient", patient, reverse("messaging:thread", args=[thread.pk])),
        ("patient", patient, reverse("patients:detail", args=[pid])),
        ("patient", patient, reverse("accounts:mfa_enrol")),
        ("patient", patient, reverse("accounts:password_change")),
        ("caregiver", carer, reverse("portal:for_patient", args=[pid])),
        ("public", anonymous, reverse("accounts:login")),
        ("public", anonymous, reverse("refer:form")),
        ("public", anonymous, reverse("refer:received")),
    ]


def test_the_portal_and_the_self_referral_form_have_no_english_sentence_in_spanish(cast: Cast) -> None:
    """Every page a Spanish-speaking patient, caregiver or member of the public meets, walked with Español
    chosen: no English sentence, except data people entered, names, and text marked as English."""
    from .spanish_walk import english_runs

    _walk_data(cast)
    found: dict[str, list[str]] = {}
    seen: set[int] = set()
    for who, client, url in _pages(cast):
        if id(client) not in seen:
            _spanish(client)
            seen.add(id(client))
        r = client.get(url, follow=True)
        assert r.status_code == 200, (who, url, r.status_code)
        html = r.content.decode()
        assert '<html lang="es">' in html, (who, url)
        english = english_runs(html, _DATA)
        if english:
            found[f"{who} {url}"] = english
    import json
    import os

    if os.environ.get("ONCOLIAISON_SHOW_ENGLISH"):
        print(json.dumps(found, indent=1, ensure_ascii=False))
    assert found == {}


def test_a_submitted_self_referral_form_with_errors_stays_in_spanish(db) -> None:
    from .spanish_walk import english_runs

    client = _spanish(Client())
    r = client.post(reverse("refer:form"), {"given_name": "", "phone": ""})
    assert r.status_code == 400
    assert english_runs(r.content.decode(), ("OncoLiaison",)) == []
