"""The named cast every test shares.

- ``navigator`` (Grace) and ``oncologist`` (Sam) work at the lead program; ``admin`` (Linda) administers it.
- ``outsider`` (Olga) is a navigator at a partner hospital and must be refused the lead program's patients.
- ``researcher`` (Rex) belongs to a research institution: no identified patient data.
- ``patient_user`` is Pat, the patient ``pat``; ``caregiver`` (Cara) holds Pat's view-only proxy consent.
- ``other_patient`` is a patient of the partner hospital, whom the lead program may not see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core.actor import Actor
from oncoliaison.organisations.models import Membership, Organization, OrganizationKind, Role
from oncoliaison.patients.models import (
    CareTeam,
    CareTeamParticipant,
    Consent,
    ConsentKind,
    Patient,
    PatientIdentifier,
    ProxyScope,
)

PASSWORD = "Cast-password-2026!"


@dataclass
class Cast:
    lead: Organization
    partner: Organization
    research: Organization
    navigator: User
    oncologist: User
    admin: User
    outsider: User
    researcher: User
    patient_user: User
    caregiver: User
    pat: Patient
    other_patient: Patient
    care_team: CareTeam

    def actor(self, user: User) -> Actor:
        return actor_for_user(user, source_address="127.0.0.1")


def _staff(username: str, given: str, family: str, org: Organization, role: str) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, first_name=given, last_name=family,
                                    kind=UserKind.STAFF)
    Membership.objects.create(user=user, organization=org, role=role)
    return user


def make_cast() -> Cast:
    lead = Organization.objects.create(slug="lead", name="Lead Cancer Program", kind=OrganizationKind.LEAD_PROGRAM,
                                       mrn_system="urn:oid:2.16.840.1.113883.3.999.1")
    partner = Organization.objects.create(slug="partner", name="Partner Hospital",
                                          kind=OrganizationKind.PARTNER_HOSPITAL,
                                          mrn_system="urn:oid:2.16.840.1.113883.3.999.2")
    research = Organization.objects.create(slug="research", name="Research Institute", kind=OrganizationKind.RESEARCH)
    navigator = _staff("grace", "Grace", "Navigator", lead, Role.NAVIGATOR)
    oncologist = _staff("sam", "Sam", "Oncologist", lead, Role.PHYSICIAN)
    admin = _staff("linda", "Linda", "Admin", lead, Role.PROGRAM_ADMIN)
    outsider = _staff("olga", "Olga", "Outsider", partner, Role.NAVIGATOR)
    researcher = _staff("rex", "Rex", "Researcher", research, Role.RESEARCHER)
    patient_user = User.objects.create_user(username="pat", password=PASSWORD, first_name="Pat", last_name="Patient",
                                            kind=UserKind.PATIENT)
    caregiver = User.objects.create_user(username="cara", password=PASSWORD, first_name="Cara", last_name="Carer",
                                         kind=UserKind.CAREGIVER)
    pat = Patient.objects.create(organization=lead, given_name="Pat", family_name="Patient",
                                 birth_date=dt.date(1961, 4, 2), gender="female", user=patient_user, synthetic=True)
    PatientIdentifier.objects.create(patient=pat, organization=lead, system=lead.mrn_system, value="L-1001",
                                     type_code="MR")
    other = Patient.objects.create(organization=partner, given_name="Otto", family_name="Other",
                                   birth_date=dt.date(1955, 9, 30), gender="male", synthetic=True)
    PatientIdentifier.objects.create(patient=other, organization=partner, system=partner.mrn_system, value="P-2001",
                                     type_code="MR")
    team = CareTeam.objects.create(patient=pat, organization=lead, name="Oncology care team")
    CareTeamParticipant.objects.create(care_team=team, user=navigator, role="Nurse navigator")
    CareTeamParticipant.objects.create(care_team=team, user=oncologist, role="Medical oncologist")
    Consent.objects.create(patient=pat, kind=ConsentKind.CAREGIVER_PROXY, grantee_user=caregiver,
                           proxy_scope=ProxyScope.VIEW, organization=lead)
    return Cast(lead, partner, research, navigator, oncologist, admin, outsider, researcher, patient_user,
                caregiver, pat, other, team)
