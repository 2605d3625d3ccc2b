"""JSON shapes of referrals into the Cancer Liaison Program, and of the triage actions on them."""

from __future__ import annotations

from ninja import Field, Schema

from oncoliaison.core.schemas import LANGUAGE_TAG, Bool, Count, Date, DateTime, Id, Int, PageMeta
from oncoliaison.patients.models import AdministrativeGender

from .models import (
    DeclineReason,
    Referral,
    ReferralAttachment,
    ReferralKind,
    ReferralStatus,
    ReferralStatusChange,
    RequestedService,
    Urgency,
)


class AttachmentIn(Schema):
    name: str = Field(..., max_length=200)
    content_type: str = Field("", max_length=100)
    size_bytes: Count | None = Field(default=None)
    document_date: Date | None = None
    description: str = Field("", max_length=300)


class AttachmentOut(Schema):
    name: str
    content_type: str
    size_bytes: Int | None
    document_date: Date | None
    description: str


class HistoryOut(Schema):
    at: DateTime
    event: str = Field(..., examples=["received", "info_requested", "accepted", "first_contact"])
    from_status: str
    to_status: str
    by_user_id: Id | None
    by_label: str
    note: str


class ReferralSummaryOut(Schema):
    id: Id
    kind: ReferralKind
    status: ReferralStatus
    urgency: Urgency
    receiving_organization: str = Field(..., description="Slug of the lead program it is addressed to")
    referring_organization: str | None = Field(default=None, description="Slug")
    referring_clinician_id: Id | None
    referring_clinician_name: str = Field(..., description="The registered clinician's name, or as given")
    patient_id: Id | None = Field(default=None, description="Set once linked to a patient record")
    given_name: str
    family_name: str
    birth_date: Date | None
    reason: str
    cancer_type_text: str
    stage_text: str
    requested_services: list[RequestedService]
    received_at: DateTime
    first_contact_at: DateTime | None
    accepted_at: DateTime | None
    first_appointment_at: DateTime | None
    closed_at: DateTime | None
    version: Int

    @staticmethod
    def resolve_receiving_organization(obj: Referral) -> str:
        return obj.receiving_organization.slug

    @staticmethod
    def resolve_referring_organization(obj: Referral) -> str | None:
        org = obj.referring_organization
        return org.slug if org else None

    @staticmethod
    def resolve_referring_clinician_name(obj: Referral) -> str:
        clinician = obj.referring_clinician
        return clinician.display_name if clinician else obj.referring_clinician_name


class ReferralOut(ReferralSummaryOut):
    gender: str
    phone: str
    email: str
    preferred_language: str
    identifier_system: str
    identifier_value: str
    cancer_type_system: str
    cancer_type_code: str
    referral_source: str
    external_identifier_system: str
    external_identifier_value: str
    declined_at: DateTime | None
    info_request_message: str
    decline_reason: str
    decline_message: str
    attachments: list[AttachmentOut]
    history: list[HistoryOut]

    @staticmethod
    def resolve_attachments(obj: Referral) -> list[ReferralAttachment]:
        return list(obj.attachments.all())

    @staticmethod
    def resolve_history(obj: Referral) -> list[ReferralStatusChange]:
        return list(obj.history.all())


class ReferralPage(PageMeta):
    items: list[ReferralSummaryOut]


class ReferralFilter(Schema):
    status: list[ReferralStatus] = Field(default_factory=list, description="Repeat for several")
    patient_id: Id | None = None
    requester_id: Id | None = Field(default=None, description="The referring clinician's user id")
    received_from: DateTime | None = Field(default=None, description="Inclusive")
    received_to: DateTime | None = Field(default=None, description="Exclusive")
    page: Int = Field(1, ge=1)
    page_size: Int = Field(50, ge=1, le=100)


class QueueFilter(Schema):
    status: ReferralStatus | None = Field(default=None, description="received or info_requested")
    urgency: Urgency | None = None


class ReferralIn(Schema):
    """A provider referral.  Name either ``patient_id`` (a record you may see) or the person's details."""

    reason: str = Field(..., min_length=1, pattern=r"\S", max_length=4000)
    urgency: Urgency = Urgency.ROUTINE
    receiving_organization: str | None = Field(
        default=None, description="Slug of the lead program; defaults to the network's only one"
    )
    referring_organization: str | None = Field(
        default=None, description="Slug; needed when you hold clinical roles at more than one organisation"
    )
    referring_clinician_id: Id | None = Field(
        default=None, description="API clients: the practitioner of your organisation who refers"
    )
    referring_clinician_name: str = Field("", max_length=200, description="API clients: the name, if unregistered")
    patient_id: Id | None = None
    given_name: str = Field("", max_length=100)
    family_name: str = Field("", max_length=100)
    birth_date: Date | None = None
    gender: AdministrativeGender | None = None
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    preferred_language: str = Field("en", pattern=LANGUAGE_TAG, max_length=16)
    identifier_system: str = Field("", max_length=200)
    identifier_value: str = Field("", max_length=100)
    cancer_type_text: str = Field("", max_length=200)
    cancer_type_system: str = Field("", max_length=100)
    cancer_type_code: str = Field("", max_length=40)
    stage_text: str = Field("", max_length=40)
    requested_services: list[RequestedService] = Field(default_factory=list)
    attachments: list[AttachmentIn] = Field(default_factory=list)
    external_identifier_system: str = Field("", max_length=200)
    external_identifier_value: str = Field("", max_length=100, description="Your id for it (deduplicates retries)")


class _Versioned(Schema):
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")


class RequestInfoIn(_Versioned):
    message: str = Field(..., max_length=4000)


class NoteIn(_Versioned):
    note: str = Field("", max_length=4000)


class DeclineIn(_Versioned):
    reason: DeclineReason
    message: str = Field("", max_length=4000, description="Required when the reason is 'other'")


class AcceptIn(_Versioned):
    link_patient_id: Id | None = Field(default=None, description="Link to this existing patient record")
    register_new: Bool = Field(False, description="Register a new patient from the referral's details")
    duplicates_reviewed: Bool = Field(
        False, description="Set after reviewing the possible duplicates a first attempt answered with (409)"
    )


class MilestoneIn(_Versioned):
    at: DateTime | None = Field(default=None, description="When; defaults to now for a contact")
    note: str = Field("", max_length=4000)
