"""The kinds of organisation in the cancer-care network and the roles people hold in them, with the sets of
roles and kinds the access rules are written in.  Kernel vocabulary: the actor, the access rules and every
domain speak it; the organisations app stores memberships with these codes."""

from __future__ import annotations

from django.db import models


class UserKind(models.TextChoices):
    """Who a person's account is for; an actor of these kinds is the signed-in person (core.actor.Actor.kind)."""

    STAFF = "staff", "Staff"
    PATIENT = "patient", "Patient"
    CAREGIVER = "caregiver", "Caregiver"


class OrganizationKind(models.TextChoices):
    LEAD_PROGRAM = "lead_program", "Lead cancer program"
    PARTNER_HOSPITAL = "partner_hospital", "Partner hospital"
    RESEARCH = "research", "Research institution"
    PHARMA = "pharma", "Pharmaceutical company"
    ADVOCACY = "advocacy", "Patient-advocacy group"
    GOVERNMENT = "government", "Government agency"
    NONPROFIT = "nonprofit", "Non-profit organisation"


# Kinds whose staff deliver care and may therefore see identified patient data (under the access rules).
CARE_DELIVERING_KINDS = frozenset({OrganizationKind.LEAD_PROGRAM, OrganizationKind.PARTNER_HOSPITAL})


class Role(models.TextChoices):
    CLP = "clp", "Cancer Liaison Physician"
    NAVIGATOR = "navigator", "Nurse navigator"
    PHYSICIAN = "physician", "Physician"
    NURSE = "nurse", "Nurse"
    SOCIAL_WORKER = "social_worker", "Social worker"
    PROGRAM_ADMIN = "program_admin", "Program administrator"
    PARTNER_STAFF = "partner_staff", "Partner staff"
    RESEARCHER = "researcher", "Researcher"
    STAKEHOLDER_LIAISON = "stakeholder_liaison", "Stakeholder liaison"
    PRIVACY_OFFICER = "privacy_officer", "Privacy officer"


# Roles that work in a care-delivering organisation's program (its referral queue, program measures).
# Researchers and stakeholder liaisons work only with de-identified data.
CLINICAL_ROLES = frozenset(
    {
        Role.CLP,
        Role.NAVIGATOR,
        Role.PHYSICIAN,
        Role.NURSE,
        Role.SOCIAL_WORKER,
        Role.PROGRAM_ADMIN,
        Role.PARTNER_STAFF,
    }
)
# Roles that take part in a patient's care and so may open identified patient records (summary, alerts,
# secure messages, care plans) of the patients their organisation may see.  The program administrator
# manages the program, not patients (minimum necessary): no clinical content, except through an explicit,
# time-limited, audited emergency access (patients.EmergencyAccess), which the privacy officer reviews.
PATIENT_CARE_ROLES = CLINICAL_ROLES - {Role.PROGRAM_ADMIN}
# Roles that administer their organisation (memberships, audit report).
ADMIN_ROLES = frozenset({Role.PROGRAM_ADMIN, Role.CLP})
