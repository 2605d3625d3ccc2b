"""JSON shapes of organisations and memberships (roles of people in organisations)."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from oncoliaison.core.contact import ContactIn, ContactOut, ContactPatch
from oncoliaison.core.schemas import Bool, DateTime, Id, Int, PatchSchema, Weekday

from .models import Membership, OrganizationKind, Role


class _OrganizationHead(Schema):
    slug: str
    name: str
    kind: OrganizationKind
    active: Bool


class OrganizationOut(ContactOut, _OrganizationHead):
    identifier_system: str
    identifier_value: str
    urgent_phone: str = Field(description="Urgent line patients are told to call (24 hours)")
    office_phone: str = Field(description="Office line for patients")
    office_first_day: Int | None = Field(description="First weekday the office is open: 0 = Monday … 6 = Sunday")
    office_last_day: Int | None = Field(description="Last weekday the office is open")
    office_opens: dt.time | None
    office_closes: dt.time | None
    version: Int
    updated_at: DateTime


class OrganizationIn(ContactIn):
    name: str = Field(..., min_length=1, pattern=r"\S", max_length=200)
    kind: OrganizationKind
    slug: str = Field("", max_length=64, description="Short name; made from the name when left empty")
    active: Bool = True
    country: str = Field("US", max_length=2)
    identifier_system: str = Field("", max_length=200)
    identifier_value: str = Field("", max_length=100)
    urgent_phone: str = Field("", max_length=40, description="Urgent line patients are told to call (24 hours)")
    office_phone: str = Field("", max_length=40, description="Office line for patients")
    office_first_day: int | None = Field(None, ge=0, le=6, description="0 = Monday … 6 = Sunday")
    office_last_day: int | None = Field(None, ge=0, le=6, description="0 = Monday … 6 = Sunday")
    office_opens: dt.time | None = None
    office_closes: dt.time | None = None


class OrganizationPatch(ContactPatch):
    """Only the fields sent change.  The slug never changes.  Send the version read (or If-Match)."""

    name: str | None = Field(default=None, min_length=1, pattern=r"\S", max_length=200)
    kind: OrganizationKind | None = Field(default=None)
    active: Bool | None = Field(default=None)
    identifier_system: str | None = Field(default=None, max_length=200)
    identifier_value: str | None = Field(default=None, max_length=100)
    urgent_phone: str | None = Field(default=None, max_length=40)
    office_phone: str | None = Field(default=None, max_length=40)
    office_first_day: Weekday | None = Field(default=None)
    office_last_day: Weekday | None = Field(default=None)
    office_opens: dt.time | None = None
    office_closes: dt.time | None = None
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")


class MembershipOut(Schema):
    id: Id
    user_id: Id
    username: str
    display_name: str
    organization: str = Field(..., description="Organisation slug")
    role: Role
    title: str
    specialty_code: str
    active: Bool
    version: Int

    @staticmethod
    def resolve_username(obj: Membership) -> str:
        return obj.user.username

    @staticmethod
    def resolve_display_name(obj: Membership) -> str:
        return obj.user.display_name

    @staticmethod
    def resolve_organization(obj: Membership) -> str:
        return obj.organization.slug


class MembershipIn(Schema):
    user_id: Id
    role: Role
    title: str = Field("", max_length=120)
    specialty_code: str = Field("", max_length=40)
    active: Bool = True


class MembershipPatch(PatchSchema):
    role: Role | None = Field(default=None)
    title: str | None = Field(default=None, max_length=120)
    specialty_code: str | None = Field(default=None, max_length=40)
    active: Bool | None = Field(default=None)
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")
