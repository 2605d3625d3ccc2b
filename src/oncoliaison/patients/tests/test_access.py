"""Who sees which patient: the rules every door relies on (patients.selectors)."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.models import AuditEvent
from oncoliaison.core.scopes import ScopeSet
from oncoliaison.patients import selectors, services
from oncoliaison.patients.models import Consent, ConsentKind, ConsentStatus, Patient

pytestmark = pytest.mark.django_db


def visible(cast, user) -> set[int]:
    return set(selectors.patient_queryset_for(cast.actor(user)).values_list("pk", flat=True))


def test_staff_see_their_organisations_patients_only(cast):
    assert visible(cast, cast.navigator) == {cast.pat.pk}
    assert visible(cast, cast.oncologist) == {cast.pat.pk}
    assert visible(cast, cast.outsider) == {cast.other_patient.pk}


def test_researcher_sees_no_identified_patient(cast):
    assert visible(cast, cast.researcher) == set()
    with pytest.raises(Forbidden):
        selectors.patient_search_for(cast.actor(cast.researcher), text="Pat")


def test_patient_sees_only_themselves(cast):
    assert visible(cast, cast.patient_user) == {cast.pat.pk}


def test_caregiver_sees_only_patients_who_granted_proxy_and_loses_them_on_revocation(cast):
    assert visible(cast, cast.caregiver) == {cast.pat.pk}
    consent = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    services.consent_revoke(actor=cast.actor(cast.patient_user), consent=consent)
    assert visible(cast, cast.caregiver) == set()


def test_data_sharing_consent_opens_a_patient_to_the_named_organisation_for_its_period(cast):
    nav = cast.actor(cast.navigator)
    other = cast.other_patient
    assert other.pk not in visible(cast, cast.navigator)
    consent = services.consent_create(
        actor=cast.actor(cast.outsider), patient=other,
        data=services.ConsentData(kind=ConsentKind.DATA_SHARING, grantee_organization_id=cast.lead.pk,
                                  period_start=dt.date(2020, 1, 1)),
    )
    assert other.pk in visible(cast, cast.navigator)
    assert selectors.access_patient(nav, other.pk).pk == other.pk
    # Expired period: no longer visible.
    Consent.objects.filter(pk=consent.pk).update(period_end=dt.date(2021, 1, 1))
    assert other.pk not in visible(cast, cast.navigator)
    # Rejected status: not visible even in period.
    Consent.objects.filter(pk=consent.pk).update(period_end=None, status=ConsentStatus.REJECTED)
    assert other.pk not in visible(cast, cast.navigator)


def test_access_patient_gives_the_same_not_found_for_missing_and_not_yours(cast):
    outsider = cast.actor(cast.outsider)
    with pytest.raises(NotFound) as hidden:
        selectors.access_patient(outsider, cast.pat.pk)
    with pytest.raises(NotFound) as missing:
        selectors.access_patient(outsider, 987654)
    assert str(hidden.value) == str(missing.value)
    with pytest.raises(NotFound):
        selectors.access_patient(outsider, "not-a-number")


def test_reads_and_refusals_are_audited(cast):
    selectors.access_patient(cast.actor(cast.navigator), cast.pat.pk, channel="web")
    read = AuditEvent.objects.get(action="read")
    assert (read.patient_id, read.user_id, read.outcome, read.channel) == (cast.pat.pk, cast.navigator.pk, "success", "web")
    with pytest.raises(NotFound):
        selectors.access_patient(cast.actor(cast.outsider), cast.pat.pk)
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.outcome == "denied" and denied.user_id == cast.outsider.pk
    # The row names the patient for their organisation's audit view; the outsider's organisation sees the
    # row without it (auditlog.selectors.audit_events_reviewable_by), so it does not confirm the patient exists.
    assert denied.patient_id == cast.pat.pk


def test_system_actor_sees_its_organisation_and_research_clients_see_none(cast):
    lead_client = Actor(kind="system", client_id="c1", client_organization_id=cast.lead.pk,
                        memberships=((cast.lead.pk, "system", cast.lead.kind),),
                        scopes=ScopeSet.parse("system/Patient.rs"))
    assert set(selectors.patient_queryset_for(lead_client).values_list("pk", flat=True)) == {cast.pat.pk}
    research_client = Actor(kind="system", client_id="c2", client_organization_id=cast.research.pk,
                            memberships=((cast.research.pk, "system", cast.research.kind),),
                            scopes=ScopeSet.parse("system/*.cruds"))
    assert not selectors.patient_queryset_for(research_client).exists()


def test_search_matches_name_prefixes_birth_date_and_identifier(cast):
    nav = cast.actor(cast.navigator)
    assert list(selectors.patient_search_for(nav, text="pat PATI")) == [cast.pat]
    assert list(selectors.patient_search_for(nav, text="zzz")) == []
    assert list(selectors.patient_search_for(nav, birth_date=dt.date(1961, 4, 2))) == [cast.pat]
    assert list(selectors.patient_search_for(nav, identifier="L-1001")) == [cast.pat]
    # The partner's patient's MRN finds nothing for the lead's navigator.
    assert list(selectors.patient_search_for(nav, identifier="P-2001")) == []


def test_inactive_membership_removes_access(cast):
    cast.navigator.memberships.update(active=False)
    assert visible(cast, cast.navigator) == set()
    assert Patient.objects.count() == 2


def test_the_quick_role_check_agrees_with_the_access_rule(cast) -> None:  # type: ignore[no-untyped-def]
    users = [cast.navigator, cast.oncologist, cast.admin, cast.outsider, cast.researcher, cast.patient_user,
             cast.caregiver]
    actors = [cast.actor(u) for u in users] + [Actor(kind="patient", user_id=None, username="nobody")]
    for actor in actors:
        assert selectors.may_see_patients(actor) == (selectors.patient_access_q(actor) is not None), actor.username
    assert {selectors.may_see_patients(a) for a in actors} == {True, False}
