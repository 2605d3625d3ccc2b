"""Writes to patients, care teams and consents: validation, roles, versions, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditEvent
from oncoliaison.patients import services
from oncoliaison.patients.models import CareTeam, Consent, ConsentKind, Patient

pytestmark = pytest.mark.django_db


def data(**kw) -> services.PatientData:
    base = dict(given_name="Ana", family_name="Lopez", birth_date=dt.date(1970, 5, 6), gender="female",
                identifiers=[services.IdentifierData("urn:oid:2.16.840.1.113883.3.999.1", "L-2002", "MR")])
    base.update(kw)
    return services.PatientData(**base)


def test_navigator_registers_a_patient_in_their_organisation_with_audit(cast):
    p = services.patient_create(actor=cast.actor(cast.navigator), data=data())
    assert p.organization == cast.lead and p.version == 1
    assert p.identifiers.get().value == "L-2002"
    row = AuditEvent.objects.get(action="create")
    assert (row.patient_id, row.resource_type, row.user_id) == (p.pk, "Patient", cast.navigator.pk)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"given_name": " "}, "given_name"),
        ({"birth_date": dt.date(2999, 1, 1)}, "birth_date"),
        ({"birth_date": None}, "birth_date"),
        ({"gender": "f"}, "gender"),
        ({"email": "not-an-email"}, "email"),
        ({"preferred_language": "English"}, "preferred_language"),
        ({"identifiers": [services.IdentifierData("", "x")]}, "identifiers"),
    ],
)
def test_bad_input_is_refused_with_field_errors_and_changes_nothing(cast, changes, field):
    before = (Patient.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationFailed) as exc:
        services.patient_create(actor=cast.actor(cast.navigator), data=data(**changes))
    assert field in exc.value.field_errors
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_duplicate_identifier_is_a_conflict_and_nothing_is_stored(cast):
    before = Patient.objects.count()
    dup = data(identifiers=[services.IdentifierData(cast.lead.mrn_system, "L-1001", "MR")])
    with pytest.raises(Conflict):
        services.patient_create(actor=cast.actor(cast.navigator), data=dup)
    assert Patient.objects.count() == before


def test_roles_without_care_cannot_register_or_register_elsewhere(cast):
    with pytest.raises(Forbidden):
        services.patient_create(actor=cast.actor(cast.researcher), data=data())
    with pytest.raises(Forbidden):
        services.patient_create(actor=cast.actor(cast.outsider), data=data(organization_id=cast.lead.pk))
    with pytest.raises(Forbidden):
        services.patient_update(actor=cast.actor(cast.patient_user), patient=cast.pat, data=data())


def test_update_checks_the_version_and_increments_it(cast):
    nav = cast.actor(cast.navigator)
    updated = services.patient_update(actor=nav, patient=cast.pat, data=data(given_name="Patricia"), expected_version=1)
    assert updated.version == 2 and updated.given_name == "Patricia" and updated.given_name_search == "patricia"
    with pytest.raises(PreconditionFailed):
        services.patient_update(actor=nav, patient=cast.pat, data=data(given_name="Stale"), expected_version=1)
    assert Patient.objects.get(pk=cast.pat.pk).given_name == "Patricia"


def test_care_team_create_and_update_validate_participants(cast):
    nav = cast.actor(cast.navigator)
    team = services.care_team_create(
        actor=nav, patient=cast.pat,
        data=services.CareTeamData(name="Tumor board", participants=[services.ParticipantData(cast.oncologist.pk, "Oncologist")]),
    )
    assert team.participants.count() == 1
    with pytest.raises(ValidationFailed):
        services.care_team_update(actor=nav, team=team, data=services.CareTeamData(
            name="Tumor board", participants=[services.ParticipantData(cast.patient_user.pk, "Not staff")]))
    assert CareTeam.objects.get(pk=team.pk).participants.get().user == cast.oncologist
    with pytest.raises(Forbidden):
        services.care_team_create(actor=cast.actor(cast.caregiver), patient=cast.pat, data=services.CareTeamData(name="x"))


def test_consent_rules(cast):
    nav = cast.actor(cast.navigator)
    with pytest.raises(ValidationFailed) as exc:
        services.consent_create(actor=nav, patient=cast.pat, data=services.ConsentData(kind=ConsentKind.DATA_SHARING))
    assert "grantee_organization" in exc.value.field_errors
    with pytest.raises(ValidationFailed):
        services.consent_create(actor=nav, patient=cast.pat, data=services.ConsentData(
            kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=cast.caregiver.pk, proxy_scope="everything"))
    with pytest.raises(ValidationFailed):
        services.consent_create(actor=nav, patient=cast.pat, data=services.ConsentData(
            kind=ConsentKind.RESEARCH, period_start=dt.date(2025, 2, 1), period_end=dt.date(2025, 1, 1)))
    # The patient may grant data sharing but not record treatment consent; caregivers change nothing.
    pat = cast.actor(cast.patient_user)
    services.consent_create(actor=pat, patient=cast.pat, data=services.ConsentData(
        kind=ConsentKind.DATA_SHARING, grantee_organization_id=cast.partner.pk))
    with pytest.raises(Forbidden):
        services.consent_create(actor=pat, patient=cast.pat, data=services.ConsentData(kind=ConsentKind.TREATMENT))
    proxy = Consent.objects.get(kind=ConsentKind.CAREGIVER_PROXY)
    with pytest.raises(Forbidden):
        services.consent_revoke(actor=cast.actor(cast.caregiver), consent=proxy)
    revoked = services.consent_revoke(actor=nav, consent=proxy)
    assert revoked.status == "inactive" and revoked.period_end is not None and revoked.version == 2
