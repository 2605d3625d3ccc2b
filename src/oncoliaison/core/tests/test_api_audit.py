"""JSON API: an organisation's audit log (/api/audit-events)."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from oncoliaison.core import audit, clock
from oncoliaison.core.models import AuditAction, AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.organisations.models import Membership, Role
from oncoliaison.testing import Cast


def _events(response: object) -> list[dict[str, object]]:
    assert response.status_code == 200, response.content  # type: ignore[attr-defined]
    return response.json()["items"]  # type: ignore[attr-defined,no-any-return]


def test_admin_reads_own_organisations_log_including_disclosures_of_its_patients(cast: Cast) -> None:
    as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}")
    # Someone at the partner reading the lead's patient (through a consent) is on the lead's log too.
    audit.log(cast.actor(cast.outsider), AuditAction.READ, resource_type="Patient", resource_id=cast.pat.pk,
              patient_id=cast.pat.pk, channel="fhir")
    audit.log(cast.actor(cast.outsider), AuditAction.READ, resource_type="Patient",
              resource_id=cast.other_patient.pk, patient_id=cast.other_patient.pk, channel="fhir")
    events = _events(as_user(cast.admin).get("/api/audit-events"))
    seen = {(e["username"], e["patient_id"]) for e in events}
    assert ("grace", cast.pat.pk) in seen and ("olga", cast.pat.pk) in seen
    assert ("olga", cast.other_patient.pk) not in seen
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)  # newest first


def test_filters_by_user_patient_action_and_dates(cast: Cast) -> None:
    as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}")
    as_user(cast.oncologist).get("/api/patients")
    client = as_user(cast.admin)
    by_user = _events(client.get("/api/audit-events", {"user_id": cast.oncologist.pk}))
    assert by_user and {e["username"] for e in by_user} == {"sam"}
    by_action = _events(client.get("/api/audit-events", {"action": "search", "patient_id": cast.pat.pk}))
    assert [e["username"] for e in by_action] == ["sam"]
    today = clock.today()
    assert _events(client.get("/api/audit-events", {"since": str(today + dt.timedelta(days=2))})) == []
    assert _events(client.get("/api/audit-events", {"until": "2000-01-01T00:00:00Z"})) == []
    assert len(_events(client.get("/api/audit-events", {"since": str(today - dt.timedelta(days=2))}))) >= 2
    assert_error(client.get("/api/audit-events", {"action": "dance"}), 422, "processing")


def test_reading_the_log_is_itself_audited(cast: Cast) -> None:
    as_user(cast.admin).get("/api/audit-events")
    row = AuditEvent.objects.order_by("-seq").first()
    assert row is not None
    assert (row.action, row.resource_type, row.username, row.channel) == (
        AuditAction.READ, "AuditEvent", "linda", "api"
    )


def test_audit_log_requires_the_admin_role(cast: Cast) -> None:
    for user in (cast.navigator, cast.oncologist, cast.researcher, cast.patient_user, cast.caregiver):
        assert_error(as_user(user).get("/api/audit-events"), 403, "forbidden")


def test_audit_log_hides_other_organisations(cast: Cast) -> None:
    Membership.objects.create(user=cast.outsider, organization=cast.partner, role=Role.PROGRAM_ADMIN)
    as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}")
    partner_admin = as_user(cast.outsider)
    assert {e["username"] for e in _events(partner_admin.get("/api/audit-events"))} <= {"olga"}
    assert_error(partner_admin.get("/api/audit-events", {"organization": "lead"}), 403, "forbidden")
    assert_error(as_user(cast.admin).get("/api/audit-events", {"organization": "partner"}), 403, "forbidden")
    assert_error(as_user(cast.admin).get("/api/audit-events", {"organization": "nowhere"}), 404, "not-found")


def test_audit_log_with_tokens(cast: Cast) -> None:
    as_user(cast.navigator).get(f"/api/patients/{cast.pat.pk}")
    headers = bearer(cast.lead, "system/AuditEvent.rs")
    assert any(e["username"] == "grace" for e in _events(Client().get("/api/audit-events", **headers)))
    assert_error(Client().get("/api/audit-events", {"organization": "partner"}, **headers), 403, "forbidden")
    assert_error(Client().get("/api/audit-events", **bearer(cast.lead, "system/Patient.rs")), 403, "forbidden")
