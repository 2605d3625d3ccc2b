"""Organisations of the cancer-care network and people's roles in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models


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


class Organization(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=OrganizationKind.choices)
    active = models.BooleanField(default=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    country = models.CharField(max_length=2, blank=True, default="US")
    # FHIR identifier (e.g. NPI of the facility); system + value.
    identifier_system = models.CharField(max_length=200, blank=True)
    identifier_value = models.CharField(max_length=100, blank=True)
    mrn_system = models.CharField(
        max_length=200, blank=True, help_text="URI of the MRN namespace this organisation assigns."
    )
    # Contact points patients are told to call (organisations.rules; a care team may override the numbers).
    urgent_phone = models.CharField(max_length=40, blank=True,
                                    help_text="Answered day and night: severe symptoms, fever on chemotherapy.")
    office_phone = models.CharField(max_length=40, blank=True, help_text="The program office, in office hours.")
    office_first_day = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 = Monday … 6 = Sunday")
    office_last_day = models.PositiveSmallIntegerField(null=True, blank=True, help_text="0 = Monday … 6 = Sunday")
    office_opens = models.TimeField(null=True, blank=True)
    office_closes = models.TimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(office_first_day__isnull=True) | models.Q(office_first_day__lte=6))
                & (models.Q(office_last_day__isnull=True) | models.Q(office_last_day__lte=6)),
                name="organization_office_days_are_weekdays",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def delivers_care(self) -> bool:
        return self.kind in CARE_DELIVERING_KINDS


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


class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=32, choices=Role.choices)
    title = models.CharField(max_length=120, blank=True, help_text="e.g. Medical oncologist")
    specialty_code = models.CharField(max_length=40, blank=True, help_text="SNOMED CT specialty code")
    active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]
        indexes = [models.Index(fields=["organization", "role"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.organization}"
