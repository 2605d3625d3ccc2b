"""Home page per role, the audit report (filters, CSV export, chain status) and the error pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from oncoliaison.core import audit
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.patients.models import Consent, ConsentKind, ConsentStatus

pytestmark = pytest.mark.django_db

HOME = reverse("home:home")
AUDIT = reverse("auditlog:audit")


@pytest.fixture(autouse=True)
def _fresh_chain_status():  # type: ignore[no-untyped-def]
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def _as(client, user):  # type: ignore[no-untyped-def]
    client.force_login(user)
    return client


# --- home --------------------------------------------------------------------------------------------


def test_home_requires_login(client, cast):
    response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_navigator_home_lists_my_patients_and_audits_them(client, cast):
    html = _as(client, cast.navigator).get(HOME).content.decode()
    assert "My patients" in html and "Patient, Pat" in html and "Find a patient" in html
    assert 'href="/patients/"' in html  # nav link
    assert 'href="/audit/"' not in html  # not an administrator
    assert AuditEvent.objects.filter(action=AuditAction.SEARCH, patient_id=cast.pat.pk,
                                     user_id=cast.navigator.pk).exists()


def test_admin_home_shows_administration(client, cast):
    html = _as(client, cast.admin).get(HOME).content.decode()
    assert "Administration" in html and "Open the audit report" in html and "Add an organisation" in html
    assert "Lead Cancer Program" in html


def test_partner_home_shows_patients_shared_with_the_organisation(client, cast):
    html = _as(client, cast.outsider).get(HOME).content.decode()
    assert "Shared with your organisation" in html and "Patient, Pat" not in html
    Consent.objects.create(patient=cast.pat, kind=ConsentKind.DATA_SHARING, grantee_organization=cast.partner,
                           organization=cast.lead)
    html = client.get(HOME).content.decode()
    assert "Patient, Pat" in html


def test_researcher_home_explains_no_identified_data(client, cast):
    html = _as(client, cast.researcher).get(HOME).content.decode()
    assert "does not give access to identified patient records" in html
    assert "Research Institute" in html
    assert 'href="/patients/"' not in html and "Patient, Pat" not in html


def test_patient_home_shows_own_summary_and_revokes_caregiver(client, cast):
    html = _as(client, cast.patient_user).get(HOME).content.decode()
    assert "My care team" in html and "Grace Navigator" in html and "Cara Carer" in html
    assert "Otto" not in html
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    response = client.post(reverse("patients:consent_revoke", args=[cast.pat.pk, consent.pk]), {"return": "home"})
    assert response.status_code == 302 and response["Location"] == HOME
    consent.refresh_from_db()
    assert consent.status == ConsentStatus.INACTIVE
    # The caregiver no longer sees Pat.
    client.logout()
    html = _as(client, cast.caregiver).get(HOME).content.decode()
    assert "Pat Patient" not in html and "No one has given you access" in html


def test_caregiver_home_lists_granting_patients_and_scope(client, cast):
    html = _as(client, cast.caregiver).get(HOME).content.decode()
    assert "Pat Patient" in html and "View only" in html
    assert 'href="/patients/"' not in html


# --- audit report ----------------------------------------------------------------------------------


def test_audit_requires_login(client, cast):
    assert client.get(AUDIT).status_code == 302


@pytest.mark.parametrize("who", ["navigator", "outsider", "researcher", "patient_user", "caregiver"])
def test_audit_requires_an_admin_role(client, cast, who):
    _as(client, getattr(cast, who))
    assert client.get(AUDIT).status_code == 403
    assert client.post(AUDIT, {"export": "csv"}).status_code == 403


def test_audit_shows_own_organisation_and_chain_status(client, cast):
    audit.log(cast.actor(cast.navigator), AuditAction.READ, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web")
    audit.log(cast.actor(cast.outsider), AuditAction.READ, resource_type="Patient",
              patient_id=cast.other_patient.pk, resource_id=cast.other_patient.pk, channel="web")
    response = _as(client, cast.admin).get(AUDIT)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Audit log verified" in html
    assert "<td>grace</td>" in html and "<td>olga</td>" not in html  # the partner's own reads belong to the partner
    assert response["Cache-Control"] == "no-store"


def test_audit_includes_other_organisations_reading_our_patients(client, cast):
    audit.log(cast.actor(cast.outsider), AuditAction.READ, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web")
    html = _as(client, cast.admin).get(AUDIT).content.decode()
    assert "<td>olga</td>" in html


def test_audit_filters_by_action_user_dates_and_patient(client, cast):
    audit.log(cast.actor(cast.navigator), AuditAction.PRINT, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web")
    audit.log(cast.actor(cast.oncologist), AuditAction.READ, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web")
    _as(client, cast.admin)
    html = client.post(AUDIT, {"organization": cast.lead.pk, "action": "print"}).content.decode()
    assert "<td>grace</td>" in html and "<td>sam</td>" not in html
    html = client.post(AUDIT, {"organization": cast.lead.pk, "user": cast.oncologist.pk}).content.decode()
    assert "<td>sam</td>" in html and "<td>grace</td>" not in html
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    html = client.post(AUDIT, {"organization": cast.lead.pk, "date_from": tomorrow}).content.decode()
    assert "No audit record matches" in html
    # Choosing a patient: a search first offers the matches, then the chosen one filters.
    html = client.post(AUDIT, {"organization": cast.lead.pk, "patient_search": "L-1001"}).content.decode()
    assert f'<option value="{cast.pat.pk}">' in html
    html = client.post(AUDIT, {"organization": cast.lead.pk, "patient_search": "L-1001",
                               "patient": cast.pat.pk, "action": "read"}).content.decode()
    assert "<td>sam</td>" in html


def test_audit_bad_filter_is_a_clear_error(client, cast):
    _as(client, cast.admin)
    response = client.post(AUDIT, {"organization": cast.lead.pk, "date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 400
    assert "The end date is before the start date" in response.content.decode()
    response = client.post(AUDIT, {"organization": cast.partner.pk})
    assert response.status_code == 400  # not an organisation this admin administers


def test_audit_patient_search_hides_other_organisations(client, cast):
    _as(client, cast.admin)
    html = client.post(AUDIT, {"organization": cast.lead.pk, "patient_search": "P-2001"}).content.decode()
    assert "Otto" not in html
    response = client.post(AUDIT, {"organization": cast.lead.pk, "patient": cast.other_patient.pk})
    assert response.status_code == 400


def test_audit_csv_export_is_audited(client, cast):
    audit.log(cast.actor(cast.navigator), AuditAction.READ, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web", detail="=HYPERLINK(1)")
    _as(client, cast.admin)
    response = client.post(AUDIT, {"organization": cast.lead.pk, "export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0].startswith("seq,recorded_at,username")
    assert "grace" in body and "'=HYPERLINK(1)" in body
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, user_id=cast.admin.pk).exists()


def test_audit_reports_a_broken_chain(client, cast):
    audit.log(cast.actor(cast.navigator), AuditAction.READ, channel="web")
    from oncoliaison.core.models import AuditChainHead

    _as(client, cast.admin)
    assert "Audit log verified" in client.get(AUDIT).content.decode()
    AuditChainHead.objects.filter(pk=1).update(last_seq=99)
    # The status is re-checked every ten minutes, or at once when asked.
    html = client.post(AUDIT, {"organization": cast.lead.pk, "verify": "1"}).content.decode()
    assert "failed verification" in html


def test_clp_of_partner_sees_only_partner_rows(client, cast):
    Membership.objects.create(user=cast.outsider, organization=cast.partner, role=Role.CLP)
    audit.log(cast.actor(cast.navigator), AuditAction.READ, resource_type="Patient", patient_id=cast.pat.pk,
              resource_id=cast.pat.pk, channel="web")
    html = _as(client, cast.outsider).get(AUDIT).content.decode()
    assert "<td>grace</td>" not in html


# --- error pages -------------------------------------------------------------------------------------


def test_404_page_leaks_nothing(client, cast):
    _as(client, cast.navigator)
    response = client.get("/patients/999999/secret-path-L-1001/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "secret-path" not in html and "L-1001" not in html and "Page not found" in html


def test_500_page_is_plain(client, cast):
    from django.template.loader import render_to_string

    html = render_to_string("500.html")
    assert "Something went wrong" in html and "Traceback" not in html


@override_settings(DEBUG=False)
def test_403_page_shows_only_the_role_message(client, cast):
    _as(client, cast.researcher)
    response = client.get(reverse("patients:list"))
    assert response.status_code == 403
    assert "does not give access to patient records" in response.content.decode()


# --- query budgets -----------------------------------------------------------------------------------


def _many_patients(cast, n: int) -> None:  # type: ignore[no-untyped-def]
    from oncoliaison.patients.models import CareTeam, CareTeamParticipant, Patient, PatientIdentifier

    for i in range(n):
        p = Patient.objects.create(organization=cast.lead, given_name=f"Kim{i}", family_name="Load",
                                   birth_date=dt.date(1960, 1, 1), gender="female", synthetic=True)
        PatientIdentifier.objects.create(patient=p, organization=cast.lead, system=cast.lead.mrn_system,
                                         value=f"Q-{i}", type_code="MR")
        team = CareTeam.objects.create(patient=p, organization=cast.lead, name="Team")
        CareTeamParticipant.objects.create(care_team=team, user=cast.navigator, role="Nurse navigator")
        audit.log(cast.actor(cast.navigator), AuditAction.READ, resource_type="Patient", patient_id=p.pk,
                  resource_id=p.pk, channel="web")


def test_home_query_budget(client, cast, django_assert_max_num_queries):
    _many_patients(cast, 60)
    _as(client, cast.navigator)
    # constant: no query per patient (one for emergency access in force, 3 for the waiting-for-you counts and
    # the menu's unread badge, one for organisations missing contact points)
    with django_assert_max_num_queries(21):
        html = client.get(HOME).content.decode()
    assert "Showing the first 50" in html and html.count("Q-") == 50


def test_audit_report_query_budget(client, cast, django_assert_max_num_queries):
    _many_patients(cast, 60)
    _as(client, cast.admin)
    with django_assert_max_num_queries(18):  # constant: no query per row
        response = client.post(AUDIT, {"organization": cast.lead.pk, "page": "2"})
    assert "page 2 of" in response.content.decode()


def test_csrf_failure_page_is_friendly(cast):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(cast.navigator)
    response = strict.post(reverse("patients:list"), {"text": "pat"})
    assert response.status_code == 403
    assert "Nothing was saved" in response.content.decode() and "CSRF verification" not in response.content.decode()
