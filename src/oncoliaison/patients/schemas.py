"""JSON shapes of patients (with identifiers), care teams and consents."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from oncoliaison.core.schemas import PageMeta, PatchSchema

from .models import (
    AdministrativeGender,
    CareTeamStatus,
    ConsentKind,
    ConsentStatus,
    IdentifierType,
    ProxyScope,
)

# --- patients -------------------------------------------------------------------------------------


class IdentifierIn(Schema):
    system: str = Field(..., max_length=200, examples=["urn:oid:2.16.840.1.113883.3.999.1"])
    value: str = Field(..., max_length=100)
    type_code: IdentifierType = Field(IdentifierType.OTHER, description="MR, SS, MB or empty")
    organization: str | None = Field(default=None, description="Slug of the assigning organisation (for MRNs)")


class IdentifierOut(Schema):
    system: str
    value: str
    type_code: str
    organization: str | None = Field(default=None, description="Slug of the assigning organisation")

    @staticmethod
    def resolve_organization(obj: object) -> str | None:
        org = obj.organization  # type: ignore[attr-defined]
        return org.slug if org else None


class PatientOut(Schema):
    id: int
    organization: str = Field(..., description="Slug of the managing organisation")
    given_name: str
    family_name: str
    birth_date: dt.date
    gender: AdministrativeGender
    phone: str
    email: str
    address_line: str
    city: str
    state: str
    postal_code: str
    country: str
    preferred_language: str
    interpreter_needed: bool
    active: bool
    deceased: bool
    synthetic: bool
    identifiers: list[IdentifierOut]
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_organization(obj: object) -> str:
        return obj.organization.slug  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_identifiers(obj: object) -> list[object]:
        return list(obj.identifiers.all())  # type: ignore[attr-defined]


class PatientPage(PageMeta):
    items: list[PatientOut]


class PatientSearch(Schema):
    """Search terms.  Prefer POST /patients/search for identifiers: query strings end up in logs."""

    q: str = Field("", max_length=200, description="Words that start the given or family name")
    birth_date: dt.date | None = None
    identifier: str = Field("", max_length=100, description="An identifier value, e.g. an MRN")
    page: int = Field(1, ge=1)
    page_size: int = Field(50, ge=1, le=100)


class PatientIn(Schema):
    given_name: str = Field(..., max_length=100)
    family_name: str = Field(..., max_length=100)
    birth_date: dt.date
    gender: AdministrativeGender
    organization: str | None = Field(
        None, description="Slug of the managing organisation; needed when you work for more than one"
    )
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    address_line: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=100)
    postal_code: str = Field("", max_length=20)
    country: str = Field("", max_length=2)
    preferred_language: str = Field("en", max_length=16, description="BCP-47 code, e.g. en, es")
    interpreter_needed: bool = False
    active: bool = True
    deceased: bool = False
    identifiers: list[IdentifierIn] = Field(default_factory=list)


class PatientPatch(PatchSchema):
    """Only the fields sent change; ``identifiers``, when sent, replaces the whole list."""

    given_name: str | None = Field(default=None, max_length=100)
    family_name: str | None = Field(default=None, max_length=100)
    birth_date: dt.date | None = Field(default=None)
    gender: AdministrativeGender | None = Field(default=None)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    address_line: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    state: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, max_length=2)
    preferred_language: str | None = Field(default=None, max_length=16)
    interpreter_needed: bool | None = Field(default=None)
    active: bool | None = Field(default=None)
    deceased: bool | None = Field(default=None)
    identifiers: list[IdentifierIn] | None = Field(default=None)
    version: int | None = Field(default=None, description="The version you read; or send If-Match")


# --- care teams -----------------------------------------------------------------------------------


class ParticipantIn(Schema):
    user_id: int = Field(..., description="A practitioner (staff member)")
    role: str = Field(..., max_length=120, examples=["Nurse navigator"])
    role_code: str = Field("", max_length=40, description="SNOMED CT code of the role")
    start: dt.date | None = None
    end: dt.date | None = None


class ParticipantOut(Schema):
    user_id: int
    display_name: str
    role: str
    role_code: str
    start: dt.date | None
    end: dt.date | None

    @staticmethod
    def resolve_display_name(obj: object) -> str:
        return obj.user.display_name  # type: ignore[attr-defined,no-any-return]


class CareTeamOut(Schema):
    id: int
    patient_id: int
    organization: str
    name: str
    status: CareTeamStatus
    participants: list[ParticipantOut]
    version: int
    updated_at: dt.datetime

    @staticmethod
    def resolve_organization(obj: object) -> str:
        return obj.organization.slug  # type: ignore[attr-defined,no-any-return]

    @staticmethod
    def resolve_participants(obj: object) -> list[object]:
        return list(obj.participants.all())  # type: ignore[attr-defined]


class CareTeamIn(Schema):
    name: str = Field(..., max_length=200)
    status: CareTeamStatus = CareTeamStatus.ACTIVE
    participants: list[ParticipantIn] = Field(default_factory=list)


class CareTeamPatch(PatchSchema):
    """Only the fields sent change; ``participants``, when sent, replaces the whole list."""

    name: str | None = Field(default=None, max_length=200)
    status: CareTeamStatus | None = Field(default=None)
    participants: list[ParticipantIn] | None = Field(default=None)
    version: int | None = Field(default=None, description="The version you read; or send If-Match")


# --- consents -------------------------------------------------------------------------------------


class ConsentOut(Schema):
    id: int
    patient_id: int
    kind: ConsentKind
    status: ConsentStatus
    grantee_organization: str | None = Field(default=None, description="Slug, for data sharing")
    grantee_user_id: int | None = Field(default=None, description="The caregiver, for proxy access")
    proxy_scope: str
    organization: str = Field(..., description="Slug of the organisation that recorded the consent")
    period_start: dt.date | None
    period_end: dt.date | None
    note: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @staticmethod
    def resolve_grantee_organization(obj: object) -> str | None:
        org = obj.grantee_organization  # type: ignore[attr-defined]
        return org.slug if org else None

    @staticmethod
    def resolve_organization(obj: object) -> str:
        return obj.organization.slug  # type: ignore[attr-defined,no-any-return]


class ConsentIn(Schema):
    kind: ConsentKind
    status: ConsentStatus = ConsentStatus.ACTIVE
    grantee_organization: str | None = Field(default=None, description="Slug of the organisation (data sharing)")
    grantee_user_id: int | None = Field(default=None, description="The caregiver's user id (proxy access)")
    proxy_scope: ProxyScope | None = Field(default=None, description="For proxy access: view, report or message")
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    note: str = Field("", max_length=2000)


class ConsentPatch(PatchSchema):
    """Only the fields sent change.  The kind never changes.  Grantees, proxy scope and period may be
    cleared with null."""

    NULLABLE = frozenset({"grantee_organization", "grantee_user_id", "proxy_scope", "period_start", "period_end"})

    status: ConsentStatus | None = Field(default=None)
    grantee_organization: str | None = Field(default=None)
    grantee_user_id: int | None = Field(default=None)
    proxy_scope: ProxyScope | None = Field(default=None)
    period_start: dt.date | None = Field(default=None)
    period_end: dt.date | None = Field(default=None)
    note: str | None = Field(default=None, max_length=2000)
    version: int | None = Field(default=None, description="The version you read; or send If-Match")
