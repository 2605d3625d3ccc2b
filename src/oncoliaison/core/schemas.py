"""Shapes shared by every part of the JSON API: errors, pages, the caller and the audit log."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar

from django.utils import timezone
from ninja import Field, Schema
from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic import Field as PydanticField

from .ids import MAX_ID
from .models import AuditAction, AuditOutcome

# --- field types that say in the OpenAPI document what the code enforces --------------------------

def _whole_number(value: Any) -> Any:
    """pydantic also reads ``false`` in a JSON body as an integer; the API takes JSON integers (``280.0``
    counts as one in JSON Schema) and digits in a query string or path."""
    if isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema counts 280.0 as an integer
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("Use a whole number.")
    return value


def _boolean(value: Any) -> Any:
    """A JSON ``true``/``false`` (or ``true``/``false`` in a query string), never ``0``, ``1`` or ``"yes"``."""
    if isinstance(value, bool) or value in ("true", "false"):
        return value
    raise ValueError("Use true or false.")


Int = Annotated[int, BeforeValidator(_whole_number)]
"""An integer, never a boolean or a fraction."""

Bool = Annotated[bool, BeforeValidator(_boolean)]
"""A boolean, never a number or a word."""

Count = Annotated[int, PydanticField(ge=0), BeforeValidator(_whole_number)]
"""A whole number from 0 up (a size, a count)."""

Weekday = Annotated[int, PydanticField(ge=0, le=6), BeforeValidator(_whole_number)]
"""A day of the week: 0 = Monday … 6 = Sunday (Python's ``date.weekday()``)."""

Id = Annotated[int, PydanticField(ge=1, le=MAX_ID), BeforeValidator(_whole_number)]
"""A record id: 1 … 2**63-1 (what the database can hold; see core.ids)."""


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)


def _iso_date(value: Any) -> Any:
    """pydantic also reads numbers (``0.5``, ``"0"``) as Unix times; the API takes ISO 8601 text only."""
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        raise ValueError("Use an ISO 8601 date, YYYY-MM-DD.")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATETIME.match(value):
        raise ValueError("Use an ISO 8601 date-time, YYYY-MM-DDThh:mm[:ss][±hh:mm or Z], or a date.")
    return value


Date = Annotated[dt.date, BeforeValidator(_iso_date)]
"""A calendar date, written YYYY-MM-DD (never a number)."""

def _aware(value: dt.datetime) -> dt.datetime:
    """A moment without an offset (or a date alone) is read in the server's time zone, as Django would
    store it; services compare it with aware times."""
    return value if timezone.is_aware(value) else timezone.make_aware(value)


DateTime = Annotated[
    dt.datetime, BeforeValidator(_iso_datetime), AfterValidator(_aware),
    WithJsonSchema({"anyOf": [{"type": "string", "format": "date-time"}, {"type": "string", "format": "date"}]}),
]
"""A moment, written in ISO 8601 (never a number); a date alone is its midnight, as pydantic reads it."""

LANGUAGE_TAG = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
"""A BCP 47 language tag as the services accept it (en, es, pt-BR)."""

Text = Annotated[str, PydanticField(min_length=1, pattern=r"\S")]
"""Text that must say something: not empty and not only spaces (the services refuse blank names)."""


class ErrorOut(Schema):
    """Every error: a stable code, a sentence for people, and per-field messages when input was wrong."""

    error: str = Field(..., examples=["not-found"], description="login, forbidden, not-found, conflict, invalid, processing")
    message: str
    fields: dict[str, list[str]] = Field(default_factory=dict)


def error_responses(*statuses: int) -> dict[int, type[ErrorOut]]:
    """Document the error statuses an operation may answer with (all in the ErrorOut shape)."""
    return {status: ErrorOut for status in statuses}


# 400: a body that is not JSON or not an object (ninja's "Cannot parse request body"), or a multipart
# request without its boundary; 413: a body above DATA_UPLOAD_MAX_MEMORY_SIZE.
READ_ERRORS = error_responses(400, 401, 403, 404, 422)
CREATE_ERRORS = error_responses(400, 401, 403, 404, 409, 413, 422)
WRITE_ERRORS = error_responses(400, 401, 403, 404, 409, 412, 413, 422, 428)


def _drop_null(schema: dict[str, Any], cls: type) -> None:
    """A PatchSchema field refuses ``null`` unless it is in NULLABLE: say so in its JSON schema."""
    nullable = getattr(cls, "NULLABLE", frozenset()) | {"version"}
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf")
        if name in nullable or not options:
            continue
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            prop.pop("anyOf")
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
        if prop.get("default", 0) is None:
            prop.pop("default")


class PatchSchema(Schema):
    """A partial update: only the fields sent change.  ``null`` is refused except for the fields in
    NULLABLE (those that may really be cleared, such as an end date); leave a field out to keep it."""

    NULLABLE: ClassVar[frozenset[str]] = frozenset()
    model_config = ConfigDict(json_schema_extra=_drop_null)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name != "version" and info.field_name not in cls.NULLABLE:
            raise ValueError("May not be null; leave the field out to keep its value.")
        return value


class PageMeta(Schema):
    count: Int = Field(..., description="Matches in total")
    page: Int
    page_size: Int
    pages: Int


class MembershipRoleOut(Schema):
    organization: str = Field(..., description="Organisation slug")
    organization_name: str
    organization_kind: str
    role: str


class MeOut(Schema):
    """The caller: a person (with roles per organisation) or an API client (with scopes)."""

    kind: str = Field(..., description="staff, patient, caregiver or system")
    user_id: Id | None = None
    username: str = ""
    display_name: str = ""
    roles: list[MembershipRoleOut] = Field(default_factory=list)
    patient_id: Id | None = Field(default=None, description="For a patient: their own record")
    client_id: str | None = None
    organization: str | None = Field(default=None, description="For an API client: its organisation's slug")
    scopes: list[str] = Field(default_factory=list)


class AuditEventOut(Schema):
    id: Id
    seq: Int
    recorded_at: DateTime
    user_id: Id | None
    username: str
    client_id: str
    role: str
    organization_id: Id | None
    patient_id: Id | None  # patient_shown: empty on a refused attempt at another organisation's patient
    action: AuditAction
    category: str
    resource_type: str
    resource_id: str
    outcome: AuditOutcome
    source_address: str
    channel: str
    detail: str

    @staticmethod
    def resolve_patient_id(obj: Any) -> int | None:
        return getattr(obj, "patient_shown", None)


class AuditEventPage(PageMeta):
    items: list[AuditEventOut]
