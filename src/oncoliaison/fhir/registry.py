"""The registry of per-resource mappers.

Each domain app declares its FHIR resources in its own ``fhir.py`` by subclassing ``ResourceMapper`` and
decorating the class with ``@register``.  The FHIR app imports every installed app's ``fhir`` module at
start-up (``FhirConfig.ready``), so the routes, the search parameters and the CapabilityStatement are all
built from this one registry and cannot drift apart.

A mapper only translates: FHIR JSON -> the domain's service input dataclass, a model row -> FHIR JSON;
access rules stay in the domain's selectors and services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed

from . import params

READ, SEARCH, CREATE, UPDATE = "read", "search-type", "create", "update"
# SMART v2 permission letter for each interaction.
SCOPE_LETTER = {READ: "r", SEARCH: "s", CREATE: "c", UPDATE: "u"}


@dataclass(frozen=True)
class SearchParam:
    """One search parameter: its FHIR type, documentation and a filter for one value."""

    name: str
    type: str  # token | string | date | reference | number
    documentation: str
    filter: Callable[[str, str], Q]  # (parameter name, one value) -> Q
    definition: str = ""  # canonical URL of the SearchParameter, for the CapabilityStatement


ID_PARAM = SearchParam("_id", "token", "Logical id of the resource.", lambda _n, v: params.ids(v),
                       "http://hl7.org/fhir/SearchParameter/Resource-id")


class ResourceMapper:
    """Translate one resource type.  Subclasses set the class attributes and implement the hooks."""

    resource_type: ClassVar[str]
    model: ClassVar[type[Model]]
    interactions: ClassVar[tuple[str, ...]] = (READ, SEARCH, CREATE, UPDATE)
    search_params: ClassVar[tuple[SearchParam, ...]] = ()
    documentation: ClassVar[str] = ""
    # Patient-linked resources are audited per patient on every read and search.
    patient_linked: ClassVar[bool] = False
    audit_category: ClassVar[str] = ""
    profile: ClassVar[str] = ""

    # --- access -----------------------------------------------------------------------------------
    def check_access(self, actor: Actor, interaction: str) -> None:
        """Raise Forbidden when the actor's ROLE does not allow this kind of interaction at all.

        Scopes of tokens are checked by the view (SCOPE_LETTER); record-level visibility by
        ``queryset_for``.  Default: staff of a member organisation and systems."""
        if actor.kind not in {"staff", "system"} or not actor.organization_ids:
            raise Forbidden(f"Your role does not give access to {self.resource_type} resources.")

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        raise NotImplementedError

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        """Add the select_related / prefetch_related that ``to_fhir`` needs."""
        return qs

    def read(self, actor: Actor, pk: str) -> Any:
        """The row if visible to ``actor``, else NotFound (the same for missing and not visible)."""
        try:
            key = int(pk)
        except ValueError:
            raise NotFound() from None
        obj = self.with_related(self.queryset_for(actor)).filter(pk=key).first()
        if obj is None:
            raise NotFound()
        return obj

    def patient_id_of(self, obj: Any) -> int | None:
        return getattr(obj, "patient_id", None) if self.patient_linked else None

    # --- representation ------------------------------------------------------------------------------
    def version_of(self, obj: Any) -> int:
        return int(getattr(obj, "version", 1))

    def updated_of(self, obj: Any) -> dt.datetime | None:
        return getattr(obj, "updated_at", None)

    def to_fhir(self, obj: Any) -> dict[str, Any]:
        raise NotImplementedError

    # --- writes ------------------------------------------------------------------------------------
    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> Any:
        """The service input for a validated resource (``current``: the row being updated)."""
        raise NotImplementedError

    def create(self, *, actor: Actor, data: Any) -> Any:
        raise NotImplementedError

    def update(self, *, actor: Actor, obj: Any, data: Any, expected_version: int | None) -> Any:
        raise NotImplementedError

    # --- search -------------------------------------------------------------------------------------
    def all_search_params(self) -> dict[str, SearchParam]:
        return {p.name: p for p in (ID_PARAM, *self.search_params)}

    def search_queryset(self, actor: Actor) -> QuerySet[Any]:
        return self.queryset_for(actor)


_REGISTRY: dict[str, ResourceMapper] = {}


def register(cls: type[ResourceMapper]) -> type[ResourceMapper]:
    """Class decorator: make a mapper available at ``/fhir/<resource_type>``."""
    existing = _REGISTRY.get(cls.resource_type)
    if existing is not None and type(existing).__qualname__ != cls.__qualname__:
        raise RuntimeError(f"Two FHIR mappers for {cls.resource_type}: {type(existing)} and {cls}")
    _REGISTRY[cls.resource_type] = cls()
    return cls


def get(resource_type: str) -> ResourceMapper | None:
    return _REGISTRY.get(resource_type)


def mappers() -> list[ResourceMapper]:
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


# --- helpers for mappers ----------------------------------------------------------------------------


def reference_to(resource: dict[str, Any] | None, resource_type: str, field: str) -> int | None:
    """The id of a literal reference ``Type/123`` (or None when absent); 422 when malformed."""
    if not resource:
        return None
    text = str(resource.get("reference") or "")
    if not text:
        return None
    parts = text.rstrip("/").split("/")
    if len(parts) < 2 or parts[-2] != resource_type or not parts[-1].isdigit():
        raise ValidationFailed(f"{field} must reference a {resource_type}, e.g. {resource_type}/123.",
                               field_errors={field: [f"Expected {resource_type}/<id>."]})
    return int(parts[-1])


def human_name(resource: dict[str, Any]) -> tuple[str, str]:
    """(given, family) from the official (or first) HumanName."""
    names = resource.get("name") or []
    chosen = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in chosen.get("given") or [] if g)
    return given, str(chosen.get("family") or "")


def telecom_values(resource: dict[str, Any]) -> tuple[str, str]:
    """(phone, email): the first of each."""
    phone = email = ""
    for t in resource.get("telecom") or []:
        if t.get("system") == "phone" and not phone:
            phone = str(t.get("value") or "")
        elif t.get("system") == "email" and not email:
            email = str(t.get("value") or "")
    return phone, email


def first_address(resource: dict[str, Any]) -> dict[str, str]:
    addresses = resource.get("address") or []
    a = addresses[0] if addresses else {}
    return {
        "address_line": ", ".join(a.get("line") or []),
        "city": str(a.get("city") or ""),
        "state": str(a.get("state") or ""),
        "postal_code": str(a.get("postalCode") or ""),
        "country": str(a.get("country") or ""),
    }


def parse_date(value: Any, field: str) -> dt.date | None:
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10]) if len(str(value)) >= 10 else _partial(field)
    except ValueError:
        raise ValidationFailed(f"{field} is not a date.", field_errors={field: ["Use YYYY-MM-DD."]}) from None


def _partial(field: str) -> dt.date:
    raise ValidationFailed(f"{field} needs a full date.", field_errors={field: ["Use YYYY-MM-DD."]})
