"""The door contract: a record served through more than one door is the same record through each.

For each kind of record that the pages, the JSON API and the FHIR API all serve (patients, referrals,
symptom reports, consents, care teams), the same signed-in person asks every door for the same list and gets
the same rows, and every door writes the same audit rows for what it disclosed: one SEARCH row per patient
whose rows were returned, with the record's category and resource type (the ones the FHIR mapper declares),
and nothing more about that kind of record.  Only the channel (web / api / fhir) differs.

A door that audits on its own, filters differently or forgets a row fails here; the selectors are the one
place that decides (``patients.selectors.consents_of``, ``monitoring.selectors.symptom_history_for``,
``referrals.selectors.audit_disclosed``), and the FHIR door applies the mapper's declared category.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from django.test import Client

from oncoliaison.accounts.session import MFA_SESSION_KEY
from oncoliaison.core.models import AuditEvent
from oncoliaison.testing import Cast

pytestmark = pytest.mark.django_db

Audit = tuple[str, str, str, int | None]  # action, category, resource type, patient


@dataclass(frozen=True)
class Answer:
    ids: set[str]
    audit: list[Audit]


def _signed_in(cast: Cast) -> Client:
    client = Client()
    client.force_login(cast.navigator)
    session = client.session
    session[MFA_SESSION_KEY] = True  # as after the second sign-in step, wherever it is required
    session.save()
    return client


def _asking(client: Client, call: Callable[[Client], Any], resource_type: str,
            ids: Callable[[Any], set[str]]) -> Answer:
    before = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    response = call(client)
    assert response.status_code == 200, (response.status_code, response.content[:300])
    rows = AuditEvent.objects.filter(seq__gt=before, resource_type=resource_type).order_by("seq")
    return Answer(ids(response), sorted((e.action, e.category, e.resource_type, e.patient_id) for e in rows))


def _api_ids(response: Any) -> set[str]:
    body = orjson.loads(response.content)
    items = body["items"] if isinstance(body, dict) else body
    return {str(item["id"]) for item in items}


def _fhir_ids(prefix: str = "") -> Callable[[Any], set[str]]:
    def ids(response: Any) -> set[str]:
        entries = orjson.loads(response.content).get("entry", [])
        found = {e["resource"]["id"] for e in entries if e.get("search", {}).get("mode", "match") == "match"}
        return {i.removeprefix(prefix) for i in found if not prefix or i.startswith(prefix)}
    return ids


def _page_ids(pattern: str) -> Callable[[Any], set[str]]:
    def ids(response: Any) -> set[str]:
        return set(re.findall(pattern, response.content.decode()))
    return ids


def _same(answers: dict[str, Answer], expected_audit: list[Audit]) -> None:
    rows = {door: a.ids for door, a in answers.items()}
    assert len({frozenset(ids) for ids in rows.values()}) == 1, rows
    assert next(iter(rows.values())), "the contract is only meaningful with rows to compare"
    for door, answer in answers.items():
        assert answer.audit == expected_audit, (door, answer.audit)


def test_patients(cast: Cast) -> None:
    client = _signed_in(cast)
    family = cast.pat.family_name
    answers = {
        "page": _asking(client, lambda c: c.post("/patients/", {"text": family}), "Patient",
                        _page_ids(r'href="/patients/(\d+)/"')),
        "api": _asking(client, lambda c: c.post("/api/patients/search", {"q": family}, content_type="application/json"),
                       "Patient", _api_ids),
        "fhir": _asking(client, lambda c: c.get("/fhir/Patient", {"family": family}), "Patient", _fhir_ids()),
    }
    _same(answers, [("search", "demographics", "Patient", cast.pat.pk)])


def test_symptom_reports(cast: Cast) -> None:
    from oncoliaison.instruments.models import Instrument
    from oncoliaison.monitoring import services as monitoring
    from oncoliaison.monitoring.fhir.common import ID_PREFIX
    from oncoliaison.monitoring.instruments import load_instruments

    load_instruments()
    esas = Instrument.objects.get(code="esas-r")
    for score in (3, 5):
        monitoring.report_submit(actor=cast.actor(cast.navigator), patient=cast.pat, instrument=esas,
                                 answers={"esas-1": score}, source="phone")
    client = _signed_in(cast)
    pid = cast.pat.pk
    qr = "QuestionnaireResponse"
    answers = {
        "page": _asking(client, lambda c: c.get(f"/monitoring/patients/{pid}/"), qr,
                        _page_ids(r'id="report-(\d+)"')),
        "api": _asking(client, lambda c: c.get(f"/api/patients/{pid}/symptom-reports"), qr, _api_ids),
        "fhir": _asking(client, lambda c: c.get(f"/fhir/{qr}", {"patient": str(pid)}), qr, _fhir_ids(f"{ID_PREFIX}-")),
    }
    _same(answers, [("search", "symptoms", qr, pid)])


def test_consents(cast: Cast) -> None:
    client = _signed_in(cast)
    pid = cast.pat.pk
    answers = {
        "api": _asking(client, lambda c: c.get(f"/api/patients/{pid}/consents"), "Consent", _api_ids),
        "fhir": _asking(client, lambda c: c.get("/fhir/Consent", {"patient": str(pid)}), "Consent", _fhir_ids()),
    }
    _same(answers, [("search", "consent", "Consent", pid)])


def test_care_teams(cast: Cast) -> None:
    client = _signed_in(cast)
    pid = cast.pat.pk
    answers = {
        "api": _asking(client, lambda c: c.get(f"/api/patients/{pid}/care-teams"), "CareTeam", _api_ids),
        "fhir": _asking(client, lambda c: c.get("/fhir/CareTeam", {"patient": str(pid)}), "CareTeam", _fhir_ids()),
    }
    _same(answers, [("search", "care_team", "CareTeam", pid)])


def test_referrals(cast: Cast) -> None:
    from oncoliaison.referrals import services as referrals

    referrals.referral_create(actor=cast.actor(cast.oncologist), data=referrals.ReferralData(
        reason="New diagnosis of breast cancer; needs navigation.", patient_id=cast.pat.pk,
        receiving_organization_id=cast.lead.pk))
    client = _signed_in(cast)
    answers = {
        "page": _asking(client, lambda c: c.get("/referrals/all/"), "ServiceRequest",
                        _page_ids(r'href="/referrals/(\d+)/"')),
        "api": _asking(client, lambda c: c.get("/api/referrals"), "ServiceRequest", _api_ids),
        "fhir": _asking(client, lambda c: c.get("/fhir/ServiceRequest"), "ServiceRequest", _fhir_ids()),
    }
    _same(answers, [("search", "referral", "ServiceRequest", cast.pat.pk)])
