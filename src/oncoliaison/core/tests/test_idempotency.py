"""The shared idempotency mechanism (core.idempotency) through its three doors: page forms with a hidden
one-time key, the JSON API and FHIR with an ``Idempotency-Key`` header."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from django.test import Client

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core import clock, idempotency
from oncoliaison.core.models import AuditEvent, IdempotencyRecord
from oncoliaison.core.tests.test_api_auth import as_user
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
from oncoliaison.monitoring.models import Alert, SymptomReport
from oncoliaison.testing import Cast

FHIR_JSON = "application/fhir+json"
SEVERE = [9, 2, 1, 0, 2, 1, 1, 2, 3]


def _answers(values: list[int]) -> dict[str, int]:
    return {f"esas-{i}": v for i, v in enumerate(values, start=1)}


def _api_post(client: Client, cast: Cast, values: list[int], key: str | None, **headers: str) -> Any:
    if key is not None:
        headers["Idempotency-Key"] = key
    return client.post(f"/api/patients/{cast.pat.pk}/symptom-reports",
                       {"instrument": "esas-r", "answers": _answers(values)}, content_type="application/json",
                       headers=headers)


def _token(cast: Cast) -> str:
    issued = api_client_create(organization=cast.lead, scopes="system/*.cruds")
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def _qr(cast: Cast, values: list[int]) -> bytes:
    return orjson.dumps({
        "resourceType": "QuestionnaireResponse", "status": "completed",
        "questionnaire": f"{QUESTIONNAIRE_BASE}/esas-r", "subject": {"reference": f"Patient/{cast.pat.pk}"},
        "authored": "2026-11-23T14:00:00Z",
        "item": [{"linkId": k, "answer": [{"valueInteger": v}]} for k, v in _answers(values).items()],
    })


# --- JSON API -------------------------------------------------------------------------------------------


def test_api_replay_with_the_same_key_answers_the_original_and_changes_nothing(cast: Cast) -> None:
    client = as_user(cast.patient_user)
    first = _api_post(client, cast, SEVERE, "report-2026-12-04-a")
    assert first.status_code == 201, first.content
    again = _api_post(client, cast, SEVERE, "report-2026-12-04-a")
    assert again.status_code == 201 and again.content == first.content
    assert again[idempotency.REPLAYED_HEADER] == "true"
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1
    assert AuditEvent.objects.filter(resource_type="QuestionnaireResponse", action="create").count() == 1


def test_api_same_key_with_another_body_is_a_422_and_changes_nothing(cast: Cast) -> None:
    client = as_user(cast.patient_user)
    _api_post(client, cast, SEVERE, "report-key-0001")
    other = _api_post(client, cast, [1, 1, 1, 1, 1, 1, 1, 1, 1], "report-key-0001")
    assert other.status_code == 422
    body = other.json()
    assert body["error"] == "processing" and "different request" in body["message"]
    assert SymptomReport.objects.count() == 1


def test_api_keys_belong_to_their_sender(cast: Cast) -> None:
    """Another person (or client) using the same key string is a different request."""
    from oncoliaison.patients.models import Consent, ProxyScope

    Consent.objects.filter(grantee_user=cast.caregiver).update(proxy_scope=ProxyScope.REPORT)
    assert _api_post(as_user(cast.patient_user), cast, SEVERE, "shared-key-1").status_code == 201
    assert _api_post(as_user(cast.caregiver), cast, SEVERE, "shared-key-1").status_code == 201
    assert SymptomReport.objects.count() == 2


def test_api_failed_request_keeps_no_key(cast: Cast) -> None:
    client = as_user(cast.patient_user)
    bad = _api_post(client, cast, [99], "retry-after-fix")
    assert bad.status_code == 422 and not IdempotencyRecord.objects.exists()
    assert _api_post(client, cast, SEVERE, "retry-after-fix").status_code == 201


@pytest.mark.parametrize("key", ["short", "x" * 129, "has space!"])
def test_api_malformed_key_is_a_clear_400(cast: Cast, key: str) -> None:
    r = _api_post(as_user(cast.patient_user), cast, SEVERE, key)
    assert r.status_code == 400 and "Idempotency-Key" in r.json()["message"]
    assert not SymptomReport.objects.exists()


def test_api_without_a_key_behaves_as_before(cast: Cast) -> None:
    client = as_user(cast.patient_user)
    _api_post(client, cast, SEVERE, None)
    _api_post(client, cast, SEVERE, None)
    assert SymptomReport.objects.count() == 2 and not IdempotencyRecord.objects.exists()


def test_expired_keys_start_afresh_and_are_purged(cast: Cast) -> None:
    client = as_user(cast.patient_user)
    _api_post(client, cast, SEVERE, "old-key-0001")
    IdempotencyRecord.objects.update(created_at=clock.now() - dt.timedelta(hours=25))
    assert _api_post(client, cast, SEVERE, "old-key-0001").status_code == 201
    assert SymptomReport.objects.count() == 2
    IdempotencyRecord.objects.update(created_at=clock.now() - dt.timedelta(hours=25))
    assert idempotency.purge_expired() == 1 and not IdempotencyRecord.objects.exists()


# --- FHIR -----------------------------------------------------------------------------------------------


def test_fhir_create_replay_answers_the_original_location_and_body(cast: Cast) -> None:
    client = Client()
    headers = {"Authorization": f"Bearer {_token(cast)}", "Idempotency-Key": "qr-7f3a9c"}
    first = client.post("/fhir/QuestionnaireResponse", _qr(cast, SEVERE), content_type=FHIR_JSON, headers=headers)
    assert first.status_code == 201, first.content
    again = client.post("/fhir/QuestionnaireResponse", _qr(cast, SEVERE), content_type=FHIR_JSON, headers=headers)
    assert again.status_code == 201 and again["Location"] == first["Location"]
    assert again.content == first.content and again["Content-Type"].startswith(FHIR_JSON)
    assert SymptomReport.objects.count() == 1 and Alert.objects.count() == 1


def test_fhir_same_key_different_body_is_an_operation_outcome(cast: Cast) -> None:
    client = Client()
    headers = {"Authorization": f"Bearer {_token(cast)}", "Idempotency-Key": "qr-7f3a9c"}
    client.post("/fhir/QuestionnaireResponse", _qr(cast, SEVERE), content_type=FHIR_JSON, headers=headers)
    other = client.post("/fhir/QuestionnaireResponse", _qr(cast, [0] * 9), content_type=FHIR_JSON, headers=headers)
    assert other.status_code == 422
    outcome = orjson.loads(other.content)
    assert outcome["resourceType"] == "OperationOutcome" and "different request" in str(outcome)
    assert SymptomReport.objects.count() == 1


def test_fhir_update_replay_changes_nothing(cast: Cast) -> None:
    client = Client()
    token = _token(cast)
    auth = {"Authorization": f"Bearer {token}"}
    org = orjson.loads(client.get(f"/fhir/Organization/{cast.lead.pk}", headers=auth).content)
    org["name"] = "Riverside Cancer Institute (renamed)"
    headers = {**auth, "Idempotency-Key": "org-rename-1", "If-Match": 'W/"1"'}
    first = client.put(f"/fhir/Organization/{cast.lead.pk}", orjson.dumps(org), content_type=FHIR_JSON,
                       headers=headers)
    assert first.status_code == 200, first.content
    again = client.put(f"/fhir/Organization/{cast.lead.pk}", orjson.dumps(org), content_type=FHIR_JSON,
                       headers=headers)
    assert again.status_code == 200 and again["ETag"] == first["ETag"] == 'W/"2"'
    cast.lead.refresh_from_db()
    assert cast.lead.version == 2


# --- pages ----------------------------------------------------------------------------------------------


def test_every_state_changing_form_carries_a_one_time_key() -> None:
    """Each POST form in the templates has {% idempotency_key %} beside {% csrf_token %}, unless it only
    searches, signs in or changes the language (listed here with the reason)."""
    import re
    from pathlib import Path

    import oncoliaison

    exempt = {
        "templates/base.html": "sign-out and the header search: nothing to repeat",
        "templates/accounts/login.html": "sign-in (a password must not be fingerprinted)",
        "templates/accounts/mfa.html": "second sign-in step (one-time code)",
        "templates/accounts/mfa_enrol.html": "authenticator set-up (one-time code)",
        "templates/accounts/password_change.html": "password change (a password must not be fingerprinted)",
        "templates/patients/list.html": "patient search (POST keeps identifiers out of URLs)",
        "templates/auditlog/audit.html": "audit report filter (a search)",
        "portal/templates/portal/base.html": "language choice",
        "portal/templates/portal/invite_accept.html": "account set-up with a password; the token is one-time",
    }
    root = Path(oncoliaison.__file__).parent
    missing = []
    for path in sorted(root.rglob("*.html")):
        rel = str(path.relative_to(root)).replace("src/oncoliaison/", "")
        text = path.read_text(encoding="utf-8")
        for form in re.findall(r"<form\b[^>]*>.*?</form>", text, flags=re.S | re.I):
            if not re.search(r'method="post"', form, flags=re.I) or any(rel.endswith(e) for e in exempt):
                continue
            if "{% idempotency_key %}" not in form:
                missing.append(rel)
    assert not missing, f"Forms without {{% idempotency_key %}}: {sorted(set(missing))}"
