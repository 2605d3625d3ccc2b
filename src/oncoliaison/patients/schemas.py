"""JSON shapes of patients (with identifiers), care teams and consents."""

from __future__ import annotations

from ninja import Field, Schema

from oncoliaison.core.contact import ContactIn, ContactOut, ContactPatch
from oncoliaison.core.schemas import LANGUAGE_TAG, Bool, Date, DateTime, Id, Int, PageMeta, PatchSchema

from . import models

# --- patients -------------------------------------------------------------------------------------


class IdentifierIn(Schema):
    system: str = Field(..., min_length=1, pattern=r"\S", max_length=200, examples=["urn:oid:2.16.840.1.113883.3.999.1"])
    value: str = Field(..., min_length=1, pattern=r"\S", max_length=100)
    type_code: models.IdentifierType = Field(models.IdentifierType.OTHER, description="MR, SS, MB or empty")
    organization: str | None = Field(default=None, description="Slug of the assigning organisation (for MRNs)")


class IdentifierOut(Schema):
    system: str
    value: str
    type_code: str
    organization: str | None = Field(default=None, description="Slug of the assigning organisation")

    @staticmethod
    def resolve_organization(obj: models.PatientIdentifier) -> str | None:
        org = obj.organization
        return org.slug if org else None


class _PatientHead(Schema):
    id: Id
    organization: str = Field(..., description="Slug of the managing organisation")
    given_name: str
    family_name: str
    birth_date: Date
    gender: models.AdministrativeGender


class PatientOut(ContactOut, _PatientHead):
    preferred_language: str
    interpreter_needed: Bool
    active: Bool
    deceased: Bool
    synthetic: Bool
    identifiers: list[IdentifierOut]
    version: Int
    updated_at: DateTime

    @staticmethod
    def resolve_organization(obj: models.Patient) -> str:
        return obj.organization.slug

    @staticmethod
    def resolve_identifiers(obj: models.Patient) -> list[models.PatientIdentifier]:
        return list(obj.identifiers.all())


class PatientPage(PageMeta):
    items: list[PatientOut]


class PatientListPage(Schema):
    """Which page of the patients the caller may see (no search terms: those go in a POST body)."""

    page: Int = Field(1, ge=1)
    page_size: Int = Field(50, ge=1, le=100)


class PatientSearch(PatientListPage):
    """Search terms, sent in the body of POST /patients/search: names, birth dates and MRNs never travel
    in a URL (which proxies, servers and browsers write to their logs)."""

    q: str = Field("", max_length=200, description="Words that start the given or family name")
    birth_date: Date | None = None
    identifier: str = Field("", max_length=100, description="An identifier value, e.g. an MRN")


class PatientIn(ContactIn):
    given_name: str = Field(..., min_length=1, pattern=r"\S", max_length=100)
    family_name: str = Field(..., min_length=1, pattern=r"\S", max_length=100)
    birth_date: Date
    gender: models.AdministrativeGender
    organization: str | None = Field(
        None, description="Slug of the managing organisation; needed when you work for more than one"
    )
    preferred_language: str = Field("en", pattern=LANGUAGE_TAG, max_length=16, description="BCP-47 code, e.g. en, es")
    interpreter_needed: Bool = False
    active: Bool = True
    deceased: Bool = False
    identifiers: list[IdentifierIn] = Field(default_factory=list)


class PatientPatch(ContactPatch):
    """Only the fields sent change; ``identifiers``, when sent, replaces the whole list."""

    given_name: str | None = Field(default=None, min_length=1, pattern=r"\S", max_length=100)
    family_name: str | None = Field(default=None, min_length=1, pattern=r"\S", max_length=100)
    birth_date: Date | None = Field(default=None)
    gender: models.AdministrativeGender | None = Field(default=None)
    preferred_language: str | None = Field(default=None, pattern=LANGUAGE_TAG, max_length=16)
    interpreter_needed: Bool | None = Field(default=None)
    active: Bool | None = Field(default=None)
    deceased: Bool | None = Field(default=None)
    identifiers: list[IdentifierIn] | None = Field(default=None)
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")


# --- care teams -----------------------------------------------------------------------------------


class ParticipantIn(Schema):
    user_id: Id = Field(..., description="A practitioner (staff member)")
    role: str = Field(..., max_length=120, examples=["Nurse navigator"])
    role_code: str = Field("", max_length=40, description="SNOMED CT code of the role")
    start: Date | None = None
    end: Date | None = None


class ParticipantOut(Schema):
    user_id: Id
    display_name: str
    role: str
    role_code: str
    start: Date | None
    end: Date | None

    @staticmethod
    def resolve_display_name(obj: models.CareTeamParticipant) -> str:
        return obj.user.display_name


class CareTeamOut(Schema):
    id: Id
    patient_id: Id
    organization: str
    name: str
    status: models.CareTeamStatus
    participants: list[ParticipantOut]
    urgent_phone: str = Field(description="The team's own urgent line ('' = the organisation's)")
    office_phone: str = Field(description="The team's own office line ('' = the organisation's)")
    version: Int
    updated_at: DateTime

    @staticmethod
    def resolve_organization(obj: models.CareTeam) -> str:
        return obj.organization.slug

    @staticmethod
    def resolve_participants(obj: models.CareTeam) -> list[models.CareTeamParticipant]:
        return list(obj.participants.all())


class CareTeamIn(Schema):
    name: str = Field(..., min_length=1, pattern=r"\S", max_length=200)
    status: models.CareTeamStatus = models.CareTeamStatus.ACTIVE
    participants: list[ParticipantIn] = Field(default_factory=list)
    urgent_phone: str = Field("", max_length=40, description="The team's own urgent line, if not the organisation's")
    office_phone: str = Field("", max_length=40, description="The team's own office line, if not the organisation's")


class CareTeamPatch(PatchSchema):
    """Only the fields sent change; ``participants``, when sent, replaces the whole list."""

    name: str | None = Field(default=None, min_length=1, pattern=r"\S", max_length=200)
    status: models.CareTeamStatus | None = Field(default=None)
    participants: list[ParticipantIn] | None = Field(default=None)
    urgent_phone: str | None = Field(default=None, max_length=40)
    office_phone: str | None = Field(default=None, max_length=40)
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")


# --- consents -------------------------------------------------------------------------------------


class ConsentOut(Schema):
    id: Id
    patient_id: Id
    kind: models.ConsentKind
    status: models.ConsentStatus
    grantee_organization: str | None = Field(default=None, description="Slug, for data sharing")
    grantee_user_id: Id | None = Field(default=None, description="The caregiver, for proxy access")
    proxy_scope: str
    organization: str = Field(..., description="Slug of the organisation that recorded the consent")
    period_start: Date | None
    period_end: Date | None
    note: str
    version: Int
    created_at: DateTime
    updated_at: DateTime

    @staticmethod
    def resolve_grantee_organization(obj: models.Consent) -> str | None:
        org = obj.grantee_organization
        return org.slug if org else None

    @staticmethod
    def resolve_organization(obj: models.Consent) -> str:
        return obj.organization.slug


class ConsentIn(Schema):
    kind: models.ConsentKind
    status: models.ConsentStatus = models.ConsentStatus.ACTIVE
    grantee_organization: str | None = Field(default=None, description="Slug of the organisation (data sharing)")
    grantee_user_id: Id | None = Field(default=None, description="The caregiver's user id (proxy access)")
    proxy_scope: models.ProxyScope | None = Field(default=None, description="For proxy access: view, report or message")
    period_start: Date | None = None
    period_end: Date | None = None
    note: str = Field("", max_length=2000)


class ConsentPatch(PatchSchema):
    """Only the fields sent change.  The kind never changes.  Grantees, proxy scope and period may be
    cleared with null."""

    NULLABLE = frozenset({"grantee_organization", "grantee_user_id", "proxy_scope", "period_start", "period_end"})

    status: models.ConsentStatus | None = Field(default=None)
    grantee_organization: str | None = Field(default=None)
    grantee_user_id: Id | None = Field(default=None)
    proxy_scope: models.ProxyScope | None = Field(default=None)
    period_start: Date | None = Field(default=None)
    period_end: Date | None = Field(default=None)
    note: str | None = Field(default=None, max_length=2000)
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")
