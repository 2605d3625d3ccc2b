"""Patient pages: search (POST, htmx, paginated, audited), summary, print, registration, demographics with
optimistic locking, consents."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.oncology.models import CancerCondition
from oncoliaison.patients.models import Consent, ConsentKind, ConsentStatus, Patient, PatientIdentifier

pytestmark = pytest.mark.django_db

LIST = reverse("patients:list")


def _body(response) -> str:  # type: ignore[no-untyped-def]
    """The page without per-request tokens, to compare two responses."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", text)


def _as(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


# --- requires login --------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args", [
    ("patients:list", []), ("patients:create", []), ("patients:detail", [1]), ("patients:edit", [1]),
    ("patients:consent_add", [1]),
])
def test_pages_require_login(client, cast, name, args):
    url = reverse(name, args=args)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_print_and_revoke_require_login(client, cast):
    for url in (reverse("patients:print", args=[cast.pat.pk]),
                reverse("patients:consent_revoke", args=[cast.pat.pk, 1])):
        response = client.post(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


# --- search ----------------------------------------------------------------------------------------


def test_search_finds_patient_and_audits_disclosure(client, cast):
    _as(client, cast.navigator)
    response = client.post(LIST, {"text": "pat"})
    assert response.status_code == 200
    assert "Patient, Pat" in response.content.decode()
    assert "L-1001" in response.content.decode()
    row = AuditEvent.objects.get(action=AuditAction.SEARCH, patient_id=cast.pat.pk)
    assert row.channel == "web" and row.user_id == cast.navigator.pk


def test_search_by_mrn_and_birth_date(client, cast):
    _as(client, cast.navigator)
    assert "Patient, Pat" in client.post(LIST, {"identifier": "L-1001"}).content.decode()
    assert "Patient, Pat" in client.post(LIST, {"birth_date": "1961-04-02"}).content.decode()
    assert "No patient you may see" in client.post(LIST, {"birth_date": "1961-04-03"}).content.decode()


def test_search_htmx_returns_results_fragment_only(client, cast):
    _as(client, cast.navigator)
    response = client.post(LIST, {"text": "pat"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Patient, Pat" in html
    assert "<html" not in html and 'id="search-form"' not in html


def test_search_without_criteria_shows_error_and_audits_nothing(client, cast):
    _as(client, cast.navigator)
    before = AuditEvent.objects.count()
    response = client.post(LIST, {"text": "  "})
    assert response.status_code == 400
    assert "Enter a name, a date of birth or an MRN" in response.content.decode()
    assert 'class="error-summary"' in response.content.decode()
    assert AuditEvent.objects.count() == before
    bad_date = client.post(LIST, {"birth_date": "02/30/1961"})
    assert bad_date.status_code == 400
    assert 'href="#id_birth_date"' in bad_date.content.decode()


def test_search_is_post_only_no_identifiers_in_url(client, cast):
    _as(client, cast.navigator)
    response = client.get(LIST, {"identifier": "L-1001"})
    # A query string is ignored: nothing is searched, nothing disclosed.
    assert "L-1001" not in response.content.decode()
    assert 'method="post"' in response.content.decode()


def test_search_hides_other_organisations(client, cast):
    _as(client, cast.outsider)
    html = client.post(LIST, {"text": "pat"}).content.decode()
    assert "Patient, Pat" not in html
    assert "No patient you may see" in client.post(LIST, {"identifier": "L-1001"}).content.decode()
    assert "Other, Otto" in client.post(LIST, {"text": "otto"}).content.decode()


@pytest.mark.parametrize("who", ["researcher", "patient_user", "caregiver"])
def test_search_requires_a_care_role(client, cast, who):
    _as(client, getattr(cast, who))
    assert client.get(LIST).status_code == 403
    assert client.post(LIST, {"text": "pat"}).status_code == 403


def test_search_is_paginated_with_a_query_budget(client, cast, django_assert_max_num_queries):
    for i in range(120):
        p = Patient.objects.create(organization=cast.lead, given_name=f"Alex{i}", family_name="Budget",
                                   birth_date=dt.date(1970, 1, 1), gender="other", synthetic=True)
        PatientIdentifier.objects.create(patient=p, organization=cast.lead, system=cast.lead.mrn_system,
                                         value=f"B-{i}", type_code="MR")
    _as(client, cast.navigator)
    with django_assert_max_num_queries(17):  # fixed; includes the menu badge and the emergency-access read
        response = client.post(LIST, {"text": "budget"})
    html = response.content.decode()
    assert "120 patients found" in html and "page 1 of 3" in html
    assert len(re.findall(r'href="/patients/\d+/"', html)) == 50
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH).count() == 50
    page3 = client.post(LIST, {"text": "budget", "page": "3"}).content.decode()
    assert len(re.findall(r'href="/patients/\d+/"', page3)) == 20


# --- summary ---------------------------------------------------------------------------------------


def test_summary_shows_record_and_audits_read(client, cast):
    CancerCondition.objects.create(patient=cast.pat, code="254837009", display="Malignant neoplasm of breast",
                                   stage_group="IIA", diagnosed_on=dt.date(2026, 1, 5))
    _as(client, cast.navigator)
    response = client.get(reverse("patients:detail", args=[cast.pat.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for text in ("Pat Patient", "Synthetic record", "L-1001", "Malignant neoplasm of breast", "IIA",
                 "Oncology care team", "Grace Navigator", "Caregiver proxy access", "Preferred language"):
        assert text in html
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action=AuditAction.READ, patient_id=cast.pat.pk, channel="web").exists()


def test_summary_hides_other_organisations_with_the_same_404(client, cast):
    _as(client, cast.outsider)
    hidden = client.get(reverse("patients:detail", args=[cast.pat.pk]))
    missing = client.get(reverse("patients:detail", args=[999999]))
    assert hidden.status_code == missing.status_code == 404
    assert _body(hidden) == _body(missing)
    assert "L-1001" not in hidden.content.decode() and "Pat Patient" not in hidden.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.ACCESS_DENIED, resource_id=str(cast.pat.pk)).exists()


def test_summary_requires_the_right_role(client, cast):
    _as(client, cast.researcher)
    assert client.get(reverse("patients:detail", args=[cast.pat.pk])).status_code == 404
    client.logout()
    _as(client, cast.patient_user)
    assert client.get(reverse("patients:detail", args=[cast.other_patient.pk])).status_code == 404
    own = client.get(reverse("patients:detail", args=[cast.pat.pk]))
    assert own.status_code == 200 and "Edit details" not in own.content.decode()


def test_caregiver_sees_summary_read_only(client, cast):
    _as(client, cast.caregiver)
    html = client.get(reverse("patients:detail", args=[cast.pat.pk])).content.decode()
    assert "Pat Patient" in html and "Edit details" not in html and "Add consent" not in html


def test_print_writes_audit_row(client, cast):
    _as(client, cast.navigator)
    url = reverse("patients:print", args=[cast.pat.pk])
    assert client.get(url).status_code == 405
    assert client.post(url, headers={"X-Requested-With": "fetch"}).status_code == 204
    response = client.post(url)
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=AuditAction.PRINT, patient_id=cast.pat.pk).count() == 2


def test_print_hides_other_organisations(client, cast):
    _as(client, cast.outsider)
    assert client.post(reverse("patients:print", args=[cast.pat.pk])).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.PRINT).exists()


# --- registration and demographics ---------------------------------------------------------------

NEW = {"given_name": "Ana", "family_name": "Lopez", "birth_date": "1970-05-06", "gender": "female",
       "mrn": "L-7777", "preferred_language": "es", "interpreter_needed": "on", "phone": "", "email": ""}


def test_register_patient(client, cast):
    _as(client, cast.navigator)
    assert client.get(reverse("patients:create")).status_code == 200
    response = client.post(reverse("patients:create"), {**NEW, "organization": cast.lead.pk})
    patient = Patient.objects.get(family_name="Lopez")
    assert response.status_code == 302 and response["Location"] == reverse("patients:detail", args=[patient.pk])
    assert patient.organization == cast.lead and patient.interpreter_needed and patient.preferred_language == "es"
    assert patient.identifiers.get().value == "L-7777"
    assert AuditEvent.objects.filter(action=AuditAction.CREATE, patient_id=patient.pk, channel="web").exists()


def test_register_bad_input_shows_errors_and_changes_nothing(client, cast):
    _as(client, cast.navigator)
    before = Patient.objects.count()
    response = client.post(reverse("patients:create"), {**NEW, "family_name": "", "birth_date": "2999-01-01",
                                                        "organization": cast.lead.pk})
    html = response.content.decode()
    assert response.status_code == 400
    assert 'href="#id_family_name"' in html and 'href="#id_birth_date"' in html
    assert "cannot be in the future" in html
    assert Patient.objects.count() == before


def test_register_duplicate_mrn_is_a_clear_error(client, cast):
    _as(client, cast.navigator)
    before = Patient.objects.count()
    response = client.post(reverse("patients:create"), {**NEW, "mrn": "L-1001", "organization": cast.lead.pk})
    assert response.status_code == 400
    assert "already has one of these identifiers" in response.content.decode()
    assert Patient.objects.count() == before


@pytest.mark.parametrize("who", ["researcher", "patient_user", "caregiver"])
def test_register_requires_the_right_role(client, cast, who):
    _as(client, getattr(cast, who))
    assert client.get(reverse("patients:create")).status_code == 403
    before = Patient.objects.count()
    assert client.post(reverse("patients:create"), {**NEW, "organization": cast.lead.pk}).status_code == 403
    assert Patient.objects.count() == before


def test_register_for_another_organisation_is_refused(client, cast):
    _as(client, cast.outsider)
    response = client.post(reverse("patients:create"), {**NEW, "organization": cast.lead.pk})
    assert response.status_code == 400  # not one of the choices offered
    assert not Patient.objects.filter(family_name="Lopez").exists()


def _edit_data(patient: Patient, **changes: str) -> dict[str, str]:
    data = {"given_name": patient.given_name, "family_name": patient.family_name,
            "birth_date": patient.birth_date.isoformat(), "gender": patient.gender, "phone": "", "email": "",
            "address_line": "", "city": "", "state": "", "postal_code": "", "preferred_language": "en",
            "version": str(patient.version)}
    data.update(changes)
    return data


def test_edit_demographics(client, cast):
    _as(client, cast.navigator)
    url = reverse("patients:edit", args=[cast.pat.pk])
    page = client.get(url).content.decode()
    assert 'name="version" value="1"' in page
    response = client.post(url, _edit_data(cast.pat, phone="555-0142"))
    assert response.status_code == 302
    cast.pat.refresh_from_db()
    assert cast.pat.phone == "555-0142" and cast.pat.version == 2
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, patient_id=cast.pat.pk).exists()


def test_edit_with_stale_version_shows_conflict_and_changes_nothing(client, cast):
    _as(client, cast.navigator)
    url = reverse("patients:edit", args=[cast.pat.pk])
    stale = _edit_data(cast.pat, phone="555-0100")
    client.post(url, _edit_data(cast.pat, phone="555-0199"))  # someone else saves first
    response = client.post(url, stale)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone else changed this record" in html
    assert "555-0199" in html  # the current saved version is shown
    assert 'name="version" value="2"' in html
    cast.pat.refresh_from_db()
    assert cast.pat.phone == "555-0199"


def test_edit_bad_input(client, cast):
    _as(client, cast.navigator)
    response = client.post(reverse("patients:edit", args=[cast.pat.pk]), _edit_data(cast.pat, email="not-mail"))
    assert response.status_code == 400 and "Enter a valid email address" in response.content.decode()
    cast.pat.refresh_from_db()
    assert cast.pat.version == 1


def test_edit_hides_other_organisations_and_requires_role(client, cast):
    url = reverse("patients:edit", args=[cast.pat.pk])
    _as(client, cast.outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, _edit_data(cast.pat, phone="1")).status_code == 404
    client.logout()
    _as(client, cast.patient_user)
    assert client.post(url, _edit_data(cast.pat, phone="1")).status_code == 403
    cast.pat.refresh_from_db()
    assert cast.pat.version == 1


# --- consents --------------------------------------------------------------------------------------


def test_add_data_sharing_consent(client, cast):
    _as(client, cast.navigator)
    url = reverse("patients:consent_add", args=[cast.pat.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"kind": ConsentKind.DATA_SHARING, "grantee_organization": cast.partner.pk})
    assert response.status_code == 302
    consent = Consent.objects.get(kind=ConsentKind.DATA_SHARING)
    assert consent.grantee_organization == cast.partner and consent.status == ConsentStatus.ACTIVE
    # The partner now sees the patient.
    client.logout()
    _as(client, cast.outsider)
    assert client.get(reverse("patients:detail", args=[cast.pat.pk])).status_code == 200


def test_add_caregiver_consent_needs_a_known_caregiver_and_scope(client, cast):
    _as(client, cast.navigator)
    url = reverse("patients:consent_add", args=[cast.pat.pk])
    before = Consent.objects.count()
    response = client.post(url, {"kind": ConsentKind.CAREGIVER_PROXY, "caregiver_username": "nobody"})
    assert response.status_code == 400
    assert "No active caregiver account" in response.content.decode()
    response = client.post(url, {"kind": ConsentKind.CAREGIVER_PROXY, "caregiver_username": "cara"})
    assert response.status_code == 400 and 'href="#id_proxy_scope"' in response.content.decode()
    response = client.post(url, {"kind": ConsentKind.DATA_SHARING})
    assert response.status_code == 400 and 'href="#id_grantee_organization"' in response.content.decode()
    assert Consent.objects.count() == before
    ok = client.post(url, {"kind": ConsentKind.CAREGIVER_PROXY, "caregiver_username": "cara",
                           "proxy_scope": "report"})
    assert ok.status_code == 302 and Consent.objects.count() == before + 1


def test_consent_add_requires_role_and_hides_other_organisations(client, cast):
    url = reverse("patients:consent_add", args=[cast.pat.pk])
    _as(client, cast.caregiver)
    assert client.post(url, {"kind": ConsentKind.RESEARCH}).status_code == 403
    client.logout()
    _as(client, cast.outsider)
    assert client.post(url, {"kind": ConsentKind.RESEARCH}).status_code == 404
    assert not Consent.objects.filter(kind=ConsentKind.RESEARCH).exists()


def test_revoke_consent_by_staff(client, cast):
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    _as(client, cast.navigator)
    response = client.post(reverse("patients:consent_revoke", args=[cast.pat.pk, consent.pk]))
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.INACTIVE
    assert AuditEvent.objects.filter(action=AuditAction.UPDATE, resource_type="Consent").exists()


def test_revoke_hides_other_organisations(client, cast):
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    _as(client, cast.outsider)
    assert client.post(reverse("patients:consent_revoke", args=[cast.pat.pk, consent.pk])).status_code == 404
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_caregiver_cannot_revoke(client, cast):
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    _as(client, cast.caregiver)
    assert client.post(reverse("patients:consent_revoke", args=[cast.pat.pk, consent.pk])).status_code == 403
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.ACTIVE


def test_search_htmx_error_is_swapped_in(client, cast):
    _as(client, cast.navigator)
    response = client.post(LIST, {"text": ""}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps only successful responses
    assert "error-summary" in html and "Enter a name, a date of birth or an MRN" in html
    assert "<html" not in html


def test_patient_grants_caregiver_access_from_own_record(client, cast):
    from oncoliaison.accounts.models import User, UserKind

    User.objects.create_user(username="carl", password="Another-pass-2026!", kind=UserKind.CAREGIVER)
    _as(client, cast.patient_user)
    url = reverse("patients:consent_add", args=[cast.pat.pk])
    page = client.get(url).content.decode()
    assert 'value="treatment"' not in page  # recorded by the care team only
    response = client.post(url, {"kind": ConsentKind.CAREGIVER_PROXY, "caregiver_username": "carl",
                                 "proxy_scope": "view"})
    assert response.status_code == 302
    assert Consent.objects.filter(grantee_user__username="carl", status=ConsentStatus.ACTIVE).exists()
    assert client.post(url, {"kind": ConsentKind.TREATMENT}).status_code == 400
    other = reverse("patients:consent_add", args=[cast.other_patient.pk])
    assert client.post(other, {"kind": ConsentKind.RESEARCH}).status_code == 404


def test_patient_sees_no_revoke_button_for_treatment_consent(client, cast):
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.TREATMENT, organization=cast.lead)
    html = _as(client, cast.patient_user).get(reverse("home:home")).content.decode()
    assert html.count(">Revoke</button>") == 1  # the caregiver's proxy only


def test_expired_session_during_htmx_search_reloads_to_sign_in(client, cast):
    response = client.post(LIST, {"text": "pat"}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('accounts:login')}?next={LIST}"
    assert not AuditEvent.objects.filter(action=AuditAction.SEARCH).exists()


def test_consent_kind_error_links_to_the_radio_group(client, cast):
    _as(client, cast.navigator)
    html = client.post(reverse("patients:consent_add", args=[cast.pat.pk]), {}).content.decode()
    i = html.find("error-summary")
    assert 'href="#id_kind"' in html and 'id="id_kind"' in html, html[i:i + 600]
