"""Shapes shared by every part of the JSON API: errors, pages, the caller and the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator

from .models import AuditAction, AuditOutcome


class ErrorOut(Schema):
    """Every error: a stable code, a sentence for people, and per-field messages when input was wrong."""

    error: str = Field(..., examples=["not-found"], description="login, forbidden, not-found, conflict, invalid, processing")
    message: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Document the error statuses an operation may answer with (all in the ErrorOut shape)."""
    return {status: ErrorOut for status in statuses}


READ_ERRORS = error_responses(401, 403, 404, 422)
CREATE_ERRORS = error_responses(401, 403, 404, 409, 422)
WRITE_ERRORS = error_responses(401, 403, 404, 409, 412, 422)


class PatchSchema(Schema):
    """A partial update: only the fields sent change.  ``null`` is refused except for the fields in
    NULLABLE (those that may really be cleared, such as an end date); leave a field out to keep it."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name != "version" and info.field_name not in cls.NULLABLE:
            raise ValueError("May not be null; leave the field out to keep its value.")
        return value


class PageMeta(Schema):
    count: int = Field(..., description="Matches in total")
    page: int
    page_size: int
    pages: int


class MembershipRoleOut(Schema):
    organization: str = Field(..., description="Organisation slug")
    organization_name: str
    organization_kind: str
    role: str


class MeOut(Schema):
    """The caller: a person (with roles per organisation) or an API client (with scopes)."""

    kind: str = Field(..., description="staff, patient, caregiver or system")
    user_id: int | None = None
    username: str = ""
    display_name: str = ""
    roles: list[MembershipRoleOut] = Field(default_factory=list)
    patient_id: int | None = Field(default=None, description="For a patient: their own record")
    client_id: str | None = None
    organization: str | None = Field(default=None, description="For an API client: its organisation's slug")
    scopes: list[str] = Field(default_factory=list)


class AuditEventOut(Schema):
    id: int
    seq: int
    recorded_at: dt.datetime
    user_id: int | None
    username: str
    client_id: str
    role: str
    organization_id: int | None
    patient_id: int | None
    action: AuditAction
    category: str
    resource_type: str
    resource_id: str
    outcome: AuditOutcome
    source_address: str
    channel: str
    detail: str


class AuditEventPage(PageMeta):
    items: list[AuditEventOut]
