"""Oncology pages: the one-page summary, file upload, and the patient-match review queue."""

from __future__ import annotations

import datetime as dt
import re

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from oncoliaison.accounts.models import User
from oncoliaison.core.models import AuditEvent
from oncoliaison.oncology.importing import bundle_import, system_actor_for
from oncoliaison.oncology.models import CancerCondition, ImportReview
from oncoliaison.patients.models import Patient
from oncoliaison.testing import Cast

from .fixtures import mcode_resources
from .test_importing import small_bundle


def _as(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


@pytest.fixture
def jenny(cast: Cast) -> Patient:
    """Jenny M of the mCODE examples, imported into the lead program."""
    wanted = [r for r in mcode_resources() if "jenny-m" in r["id"]]
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
                        for r in wanted]}
    result = bundle_import(actor=system_actor_for(cast.lead.pk), bundle=bundle, source="urn:mcode")
    assert result.rejected == []
    return CancerCondition.objects.get(source_id__endswith="primary-cancer-condition-jenny-m").patient


def _without_tokens(html: bytes) -> bytes:
    """The page minus per-response CSRF tokens and CSP nonces."""
    return re.sub(rb'(X-CSRFToken": "|nonce="|csrfmiddlewaretoken" value=")[^"]*', rb"\1", html)


def summary_url(pk: int) -> str:
    return reverse("oncology:summary", args=[pk])


def test_summary_shows_diagnosis_stage_markers_genomics_treatments(client: Client, cast: Cast, jenny: Patient,
                                                                    django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _as(client, cast.navigator)
    with django_assert_max_num_queries(30):
        response = client.get(summary_url(jenny.pk))
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Primary malignant neoplasm of female left breast", "IIIC", "Estrogen receptor",
                 "Radiotherapy", "anastrozole", "ECOG", "Disease status over time", 'class="timeline"'):
        assert text in html, text
    assert response["Cache-Control"] == "no-store"
    assert AuditEvent.objects.filter(action="read", category="oncology", patient_id=jenny.pk,
                                     username="grace").exists()


def test_summary_lists_open_issues(client: Client, cast: Cast) -> None:
    bundle_import(actor=system_actor_for(cast.lead.pk), bundle=small_bundle(), source="urn:test")
    pid = CancerCondition.objects.get().patient_id
    html = _as(client, cast.oncologist).get(summary_url(pid)).content.decode()
    assert "No stage is recorded" in html
    assert "CEA" in html


def test_hides_other_organisations_outsider_gets_the_same_404_as_nonexistent(client: Client, cast: Cast,
                                                                           jenny: Patient) -> None:
    _as(client, cast.outsider)
    hidden = client.get(summary_url(jenny.pk))
    missing = client.get(summary_url(999999))
    assert hidden.status_code == missing.status_code == 404
    assert _without_tokens(hidden.content) == _without_tokens(missing.content)
    assert AuditEvent.objects.filter(action="access_denied", category="oncology", username="olga").exists()


def test_requires_the_right_role(client: Client, cast: Cast, jenny: Patient) -> None:
    assert _as(client, cast.researcher).get(summary_url(jenny.pk)).status_code == 404
    assert _as(client, cast.researcher).get(reverse("oncology:import")).status_code == 403
    assert _as(client, cast.researcher).get(reverse("oncology:reviews")).status_code == 403
    assert _as(client, cast.patient_user).get(reverse("oncology:import")).status_code == 403
    anonymous = Client()
    assert anonymous.get(summary_url(jenny.pk)).status_code == 302


def test_patient_and_caregiver_see_only_their_own(client: Client, cast: Cast, jenny: Patient) -> None:
    assert _as(client, cast.patient_user).get(summary_url(cast.pat.pk)).status_code == 200
    assert client.get(summary_url(jenny.pk)).status_code == 404
    assert _as(client, cast.caregiver).get(summary_url(cast.pat.pk)).status_code == 200


def test_print_is_audited(client: Client, cast: Cast, jenny: Patient) -> None:
    _as(client, cast.navigator)
    response = client.post(reverse("oncology:print", args=[jenny.pk]), HTTP_X_REQUESTED_WITH="fetch")
    assert response.status_code == 204
    assert AuditEvent.objects.filter(action="print", category="oncology", patient_id=jenny.pk).exists()
    assert _as(client, cast.outsider).post(reverse("oncology:print", args=[jenny.pk])).status_code == 404


def test_upload_a_bundle(client: Client, cast: Cast) -> None:
    _as(client, cast.navigator)
    assert client.get(reverse("oncology:import")).status_code == 200
    upload = SimpleUploadedFile("referral.json", orjson.dumps(small_bundle()), content_type="application/fhir+json")
    response = client.post(reverse("oncology:import"), {"file": upload, "organization": cast.lead.pk}, follow=True)
    assert response.status_code == 200 and response.redirect_chain == [(reverse("oncology:import"), 302)]
    html = response.content.decode()
    assert "Imported 4" in html and "patients registered 1" in html
    assert "Imported 4" not in client.get(reverse("oncology:import")).content.decode()  # F5 imports nothing
    assert CancerCondition.objects.filter(patient__organization=cast.lead).count() == 1
    assert AuditEvent.objects.filter(channel="web", category="oncology", username="grace", action="create").exists()


def test_upload_names_the_rejected_entry_of_a_transaction(client: Client, cast: Cast) -> None:
    bundle = small_bundle()
    bundle["entry"][1]["resource"]["onsetDateTime"] = "last spring"
    upload = SimpleUploadedFile("referral.json", orjson.dumps(bundle))
    html = _as(client, cast.navigator).post(reverse("oncology:import"),
                                            {"file": upload, "organization": cast.lead.pk}, follow=True).content.decode()
    assert "Entry 1 (Condition/c1)" in html and "Nothing from the transaction was stored" in html
    assert not CancerCondition.objects.exists()


def test_upload_rejects_garbage_and_foreign_organisations(client: Client, cast: Cast) -> None:
    _as(client, cast.navigator)
    response = client.post(reverse("oncology:import"),
                           {"file": SimpleUploadedFile("x.json", b"{not json"), "organization": cast.lead.pk})
    assert response.status_code == 400 and "not readable FHIR JSON" in response.content.decode()
    _as(client, cast.outsider)
    response = client.post(reverse("oncology:import"), {"file": SimpleUploadedFile(
        "r.json", orjson.dumps(small_bundle())), "organization": cast.lead.pk})
    assert response.status_code == 400  # the lead program is not among the outsider's choices
    assert not CancerCondition.objects.exists()


def test_review_queue_decision_links_and_imports(client: Client, cast: Cast) -> None:
    twin = Patient.objects.create(organization=cast.lead, given_name="Pat", family_name="Patient",
                                  birth_date=dt.date(1961, 4, 2), gender="female")
    bundle = small_bundle(given="Pat", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "Patient"
    bundle_import(actor=system_actor_for(cast.lead.pk), bundle=bundle, source="urn:test")
    review = ImportReview.objects.get()
    _as(client, cast.outsider)
    assert client.get(reverse("oncology:review", args=[review.pk])).status_code == 404
    _as(client, cast.navigator)
    assert f"Review #{review.pk}" in client.get(reverse("oncology:reviews")).content.decode()
    page = client.get(reverse("oncology:review", args=[review.pk]))
    assert page.status_code == 200 and f"Record #{twin.pk}" in page.content.decode()
    response = client.post(reverse("oncology:review", args=[review.pk]), {"decision": "link", "patient": twin.pk})
    assert response.status_code == 302
    assert CancerCondition.objects.get().patient_id == twin.pk
    review.refresh_from_db()
    assert review.status == "linked" and review.resolved_by_id == cast.navigator.pk
    # a decided review is no longer in the queue
    assert client.get(reverse("oncology:review", args=[review.pk])).status_code == 404


def test_review_link_to_an_invisible_patient_is_refused(client: Client, cast: Cast) -> None:
    bundle = small_bundle(given="Patricia", birth="1961-04-02")
    bundle["entry"][0]["resource"]["name"][0]["family"] = "Patient"
    bundle_import(actor=system_actor_for(cast.lead.pk), bundle=bundle, source="urn:test")
    review = ImportReview.objects.get()
    response = _as(client, cast.navigator).post(reverse("oncology:review", args=[review.pk]),
                                                {"decision": "link", "patient": cast.other_patient.pk})
    assert response.status_code == 400
    assert not CancerCondition.objects.exists()
