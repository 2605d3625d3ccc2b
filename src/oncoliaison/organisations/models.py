"""Organisations of the cancer-care network and people's roles in them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from oncoliaison.core.contact import ContactDetails
from oncoliaison.core.roles import (
    ADMIN_ROLES,
    CARE_DELIVERING_KINDS,
    CLINICAL_ROLES,
    PATIENT_CARE_ROLES,
    OrganizationKind,
    Role,
)

# The vocabulary is the kernel's (core.roles); importing it from here stays supported.
__all__ = ["ADMIN_ROLES", "CARE_DELIVERING_KINDS", "CLINICAL_ROLES", "PATIENT_CARE_ROLES", "Membership",
           "Organization", "OrganizationKind", "Role"]


class Organization(ContactDetails):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=OrganizationKind.choices)
    active = models.BooleanField(default=True)
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
