"""The numbers patients are told to call: configured per organisation (care-team override), shown as tel:
links wherever a page says "call", in the patient's language; 911/988 and a staff warning when missing."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.organisations import rules
from oncoliaison.organisations.models import Organization
from oncoliaison.patients.models import CareTeam
from oncoliaison.testing import Cast

URGENT, URGENT_TEL = "(555) 555-0100", "tel:+15555550100"
OFFICE, OFFICE_TEL = "(555) 555-0101", "tel:+15555550101"


def _configure(org: Organization) -> None:
    Organization.objects.filter(pk=org.pk).update(
        urgent_phone=URGENT, office_phone=OFFICE, office_first_day=0, office_last_day=4,
        office_opens=dt.time(8), office_closes=dt.time(17))


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


def _send_severe_report(cast: Cast) -> str:
    r = _client(cast.patient_user).post(reverse("portal:report"), {"instrument": "esas-r", "esas-1": "10"},
                                        follow=True)
    assert r.status_code == 200
    return r.content.decode()


# --- rules ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "tel"), [("(312) 555-0142", "tel:+13125550142"),
                                            ("1-312-555-0142", "tel:+13125550142"),
                                            ("+44 20 7946 0958", "tel:+442079460958")])
def test_a_dialable_number_becomes_a_tel_uri(value: str, tel: str) -> None:
    assert rules.phone_error(value) == "" and rules.tel_uri(value) == tel


@pytest.mark.parametrize("value", ["555-0142", "call the desk", "+1", "(312) 555-0142 ext 4"])
def test_a_number_that_cannot_be_dialled_is_refused_with_a_reason(value: str) -> None:
    assert rules.phone_error(value)


def test_office_hours_read_in_the_patients_language() -> None:
    hours = rules.OfficeHours(0, 4, dt.time(8), dt.time(17))
    assert hours.text() == "Monday to Friday, 08:00 to 17:00"
    with translation.override("es"):
        assert hours.text() == "de lunes a viernes, de 08:00 a 17:00"
    assert rules.hours_error(0, 4, dt.time(17), dt.time(8))
    assert rules.hours_error(0, None, None, None)


def test_a_care_teams_own_number_overrides_the_organisations() -> None:
    base = rules.ContactPoints("Lead", URGENT, OFFICE)
    merged = rules.merge(base, "(555) 555-0199", "")
    assert (merged.urgent_phone, merged.office_phone, merged.source) == ("(555) 555-0199", OFFICE, "care team")
    assert rules.merge(base) is base


# --- pages ----------------------------------------------------------------------------------------------


def test_report_result_shows_the_24_hour_line_as_a_tel_link(cast: Cast) -> None:
    _configure(cast.lead)
    html = _send_severe_report(cast)
    assert f'<a href="{URGENT_TEL}">{URGENT}</a>' in html and f'<a href="{OFFICE_TEL}">{OFFICE}</a>' in html
    assert "Monday to Friday, 08:00 to 17:00" in html
    assert "911" in html  # the emergency wording stays


@pytest.mark.parametrize("name", ["portal:home", "portal:report", "portal:screens"])
def test_every_portal_page_that_says_call_shows_the_number(cast: Cast, name: str) -> None:
    _configure(cast.lead)
    html = _client(cast.patient_user).get(reverse(name)).content.decode()
    assert URGENT_TEL in html or OFFICE_TEL in html, name


def test_the_number_is_shown_in_spanish_for_a_spanish_speaker(cast: Cast) -> None:
    _configure(cast.lead)
    c = _client(cast.patient_user)
    c.cookies["django_language"] = "es"
    html = c.get(reverse("portal:report")).content.decode()
    assert f'Línea de 24 horas de su equipo de atención: <a href="{URGENT_TEL}">{URGENT}</a>.' in html


def test_the_care_teams_number_replaces_the_programs(cast: Cast) -> None:
    _configure(cast.lead)
    CareTeam.objects.filter(pk=cast.care_team.pk).update(urgent_phone="(555) 555-0199")
    html = _send_severe_report(cast)
    assert 'href="tel:+15555550199"' in html and URGENT_TEL not in html and OFFICE_TEL in html


def test_without_numbers_patients_see_911_and_988_and_staff_a_configuration_warning(cast: Cast) -> None:
    html = _send_severe_report(cast)
    assert "tel:" not in html and "call or text 988" in html and "Configuration" not in html
    from oncoliaison.monitoring.models import SymptomReport

    report = SymptomReport.objects.get()
    staff = _client(cast.navigator).get(reverse("monitoring:report_saved", args=[cast.pat.pk, report.pk]))
    assert "Configuration:" in staff.content.decode() and "no urgent line or office line" in staff.content.decode()
    home = _client(cast.navigator).get(reverse("home:home")).content.decode()
    assert "Configuration:" in home and "Lead Cancer Program has no urgent line" in home


def test_admin_sets_the_numbers_and_a_bad_one_changes_nothing(cast: Cast) -> None:
    c = _client(cast.admin)
    url = reverse("organisations:edit", args=[cast.lead.pk])
    form = {"name": cast.lead.name, "kind": cast.lead.kind, "version": cast.lead.version,
            "urgent_phone": "555-0100", "office_phone": OFFICE}
    bad = c.post(url, form)
    assert bad.status_code == 400 and "area code" in bad.content.decode()
    cast.lead.refresh_from_db()
    assert cast.lead.urgent_phone == "" and cast.lead.version == 1
    ok = c.post(url, {**form, "urgent_phone": URGENT, "office_first_day": "0", "office_last_day": "4",
                      "office_opens": "08:00", "office_closes": "17:00"})
    assert ok.status_code == 302
    cast.lead.refresh_from_db()
    assert (cast.lead.urgent_phone, cast.lead.office_phone, cast.lead.office_closes) == (URGENT, OFFICE, dt.time(17))
    detail = c.get(reverse("organisations:detail", args=[cast.lead.pk])).content.decode()
    assert URGENT_TEL in detail and "Configuration:" not in detail


# --- API and FHIR ---------------------------------------------------------------------------------------


def test_api_guidance_carries_the_numbers(cast: Cast) -> None:
    _configure(cast.lead)
    r = _client(cast.patient_user).post(f"/api/patients/{cast.pat.pk}/symptom-reports",
                                        {"instrument": "esas-r", "answers": {"esas-1": 9}},
                                        content_type="application/json")
    call = r.json()["guidance"]["call"]
    assert call == {"urgent_phone": URGENT, "urgent_tel": URGENT_TEL, "office_phone": OFFICE, "office_tel": OFFICE_TEL,
                    "office_hours": "Monday to Friday, 08:00 to 17:00"}


def test_fhir_organization_telecom_carries_the_lines_and_an_update_keeps_them(cast: Cast) -> None:
    from fhir.resources.R4B.organization import Organization as FhirOrganization

    from oncoliaison.fhir import codes

    _configure(cast.lead)
    issued = api_client_create(organization=cast.lead, scopes="system/Organization.rus system/CareTeam.rus")
    headers = {"Authorization": "Bearer " + token_issue(client_id=issued.client_id,
                                                          client_secret=issued.client_secret).access_token}
    c = Client()
    org = orjson.loads(c.get(f"/fhir/Organization/{cast.lead.pk}", headers=headers).content)
    FhirOrganization.model_validate(org)
    tagged = {e["valueCode"]: t["value"] for t in org["telecom"] for e in t.get("extension", [])
              if e["url"] == codes.EXT_CONTACT_PURPOSE}
    assert tagged == {"urgent": URGENT, "office": OFFICE}
    org["name"] = "Lead Cancer Program (renamed)"
    put = c.put(f"/fhir/Organization/{cast.lead.pk}", orjson.dumps(org), content_type="application/fhir+json",
                headers=headers)
    assert put.status_code == 200, put.content
    cast.lead.refresh_from_db()
    assert (cast.lead.urgent_phone, cast.lead.office_phone, cast.lead.office_opens) == (URGENT, OFFICE, dt.time(8))
    CareTeam.objects.filter(pk=cast.care_team.pk).update(urgent_phone="(555) 555-0199")
    team = orjson.loads(c.get(f"/fhir/CareTeam/{cast.care_team.pk}", headers=headers).content)
    assert team["telecom"][0]["value"] == "(555) 555-0199"


def test_the_demo_program_has_synthetic_numbers(db: None) -> None:
    from oncoliaison.demo.seed import seed_demo

    seed_demo(patients=24)
    lead = Organization.objects.get(slug="riverside-cancer-institute")
    assert lead.urgent_phone.startswith("(555) 555-01") and lead.office_phone.startswith("(555) 555-01")
    assert not Organization.objects.filter(kind="lead_program", urgent_phone="").exists()
