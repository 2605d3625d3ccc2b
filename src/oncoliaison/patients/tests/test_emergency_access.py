"""Break-glass: explicit, time-limited, justified, audited access to one patient, reviewed by the privacy
officer; the patient's read receipts say so (ONC §170.315(d)(6) emergency access)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import clock
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.organisations.models import Role
from oncoliaison.patients import selectors, services
from oncoliaison.patients.models import EmergencyAccess
from oncoliaison.testing import _staff

pytestmark = pytest.mark.django_db

WHY = "The patient called about a wrong address on her letters; the navigator is away."


def _ask(cast, user, mrn="L-1001", birth=dt.date(1961, 4, 2), reason="HOPERAT", why=WHY):  # type: ignore[no-untyped-def]
    return services.emergency_access_start(
        actor=actor_for_user(user),
        data=services.EmergencyAccessRequest(mrn=mrn, birth_date=birth, reason=reason, justification=why))


def test_the_administrator_sees_no_patient_until_breaking_the_glass_for_one(cast):
    assert not selectors.patient_queryset_for(actor_for_user(cast.admin)).exists()
    with pytest.raises(NotFound):
        selectors.access_patient(actor_for_user(cast.admin), cast.pat.pk)
    access = _ask(cast, cast.admin)
    actor = actor_for_user(cast.admin)
    assert set(selectors.patient_queryset_for(actor).values_list("pk", flat=True)) == {cast.pat.pk}
    selectors.access_patient(actor, cast.pat.pk)
    row = AuditEvent.objects.filter(action="read", patient_id=cast.pat.pk).last()
    assert row is not None and row.detail.startswith(f"emergency access #{access.pk};")
    assert (access.expires_at - access.started_at) == dt.timedelta(minutes=60)


def test_access_expires_and_can_be_ended_early(cast, settings, monkeypatch):
    settings.EMERGENCY_ACCESS_MINUTES = 5
    access = _ask(cast, cast.admin)
    later = clock.now() + dt.timedelta(minutes=6)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert not selectors.patient_queryset_for(actor_for_user(cast.admin)).exists()
    monkeypatch.undo()
    with pytest.raises(NotFound):  # someone else's session
        services.emergency_access_end(actor=actor_for_user(cast.navigator), access_id=access.pk)
    services.emergency_access_end(actor=actor_for_user(cast.admin), access_id=access.pk)
    assert not selectors.patient_queryset_for(actor_for_user(cast.admin)).exists()


def test_reason_justification_and_an_exact_patient_are_required(cast):
    with pytest.raises(ValidationFailed) as exc:
        _ask(cast, cast.admin, reason="", why="because")
    assert {"reason", "justification"} <= set(exc.value.field_errors)
    with pytest.raises(ValidationFailed):
        _ask(cast, cast.admin, birth=dt.date(1961, 4, 3))  # right MRN, wrong birth date
    with pytest.raises(ValidationFailed):  # an administrator opens only their own organisation's patients
        _ask(cast, cast.admin, mrn="P-2001", birth=dt.date(1955, 9, 30))
    assert not EmergencyAccess.objects.exists()
    assert AuditEvent.objects.filter(action="access_denied", category="emergency-access").count() == 2


def test_a_clinician_of_another_treating_organisation_may_break_the_glass_but_a_researcher_may_not(cast):
    access = _ask(cast, cast.outsider, reason="ETREAT", why="Patient arrived in our emergency department confused.")
    assert access.organization_id == cast.lead.pk  # reviewed by the lead program's privacy officer
    with pytest.raises(Forbidden):
        _ask(cast, cast.researcher)


def test_what_is_done_during_break_glass_is_audited_with_it_and_nothing_after(cast):
    from oncoliaison.patients.services import ConsentData, consent_create

    access = _ask(cast, cast.admin)
    consent_create(actor=actor_for_user(cast.admin), patient=cast.pat,
                   data=ConsentData(kind="data_sharing", grantee_organization_id=cast.partner.pk))
    row = AuditEvent.objects.filter(action="create", patient_id=cast.pat.pk).last()
    assert row is not None and row.detail.startswith(f"emergency access #{access.pk};")
    services.emergency_access_end(actor=actor_for_user(cast.admin), access_id=access.pk)
    with pytest.raises(NotFound):  # the pages and APIs reach the patient only through access_patient
        selectors.access_patient(actor_for_user(cast.admin), cast.pat.pk)


def test_the_privacy_officer_lists_sessions_with_what_was_opened_and_records_a_review(cast):
    officer = _staff("pia", "Pia", "Privacy", cast.lead, Role.PRIVACY_OFFICER)
    access = _ask(cast, cast.admin)
    selectors.access_patient(actor_for_user(cast.admin), cast.pat.pk, category="summary")
    sessions = selectors.emergency_access_review_list_for(actor_for_user(officer))
    assert [s.pk for s in sessions] == [access.pk]
    assert [e.category for e in sessions[0].accesses] == ["emergency-access", "summary"]
    services.emergency_access_review(actor=actor_for_user(officer), access=access, note="Justified; address fixed.")
    assert selectors.emergency_access_review_list_for(actor_for_user(officer), unreviewed_only=True) == []
    partner_officer = _staff("pete", "Pete", "Privacy", cast.partner, Role.PRIVACY_OFFICER)
    assert selectors.emergency_access_review_list_for(actor_for_user(partner_officer)) == []
    with pytest.raises(Forbidden):
        selectors.emergency_access_review_list_for(actor_for_user(cast.admin))
    with pytest.raises(Forbidden):
        services.emergency_access_review(actor=actor_for_user(cast.admin), access=access, note="fine")


def test_the_patient_sees_a_read_under_emergency_access_as_such(cast, client):
    from oncoliaison.messaging.services import thread_mark_read, thread_start

    thread = thread_start(actor=actor_for_user(cast.patient_user), kind="patient", subject="My address",
                          body="My letters go to my old address.", patient=cast.pat)
    _ask(cast, cast.admin)
    thread_mark_read(actor=actor_for_user(cast.admin), thread=thread)
    client.force_login(cast.patient_user)
    page = client.get(f"/messages/{thread.pk}/").content.decode()
    assert "Linda Admin (emergency access)" in page
