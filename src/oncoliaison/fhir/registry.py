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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.db.models import Model, Q, QuerySet

from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound, ValidationFailed
from oncoliaison.core.ids import parse_id

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
    # The patient id's path from a row, in queries ("pk" for Patient itself).
    patient_field: ClassVar[str] = "patient_id"
    # In the patient compartment that $everything and bulk export disclose (None: when patient-linked).
    in_patient_compartment: ClassVar[bool | None] = None
    # The row's last-change time: meta.lastUpdated and _since ("" when the resource has none; a model without
    # the field is filtered on created_at for _since, else not at all).
    updated_field: ClassVar[str] = "updated_at"
    # False for rows never changed in place (a report, a published instrument version): always version 1.
    versioned: ClassVar[bool] = True
    audit_category: ClassVar[str] = ""
    profile: ClassVar[str] = ""
    # When several domains serve one resource type (see CompositeMapper), every mapper but one sets a
    # distinct prefix and its resource ids become "<prefix>-<pk>".
    id_prefix: ClassVar[str] = ""

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
        key = self.pk_of(pk)
        if key is None:
            raise NotFound()
        obj = self.with_related(self.queryset_for(actor)).filter(pk=key).first()
        if obj is None:
            raise NotFound()
        return obj

    def patient_id_of(self, obj: Any) -> int | None:
        return getattr(obj, "patient_id", None) if self.patient_linked else None

    def owner_patient_id(self, fhir_id: str) -> int | None:
        """The patient a stored resource belongs to, whoever asks — only for the audit row of a refused
        request (so the patient's organisation sees the attempt), never for an answer."""
        key = self.pk_of(fhir_id) if self.patient_linked else None
        obj = self.model._default_manager.filter(pk=key).first() if key is not None else None
        return self.patient_id_of(obj) if obj is not None else None

    def audit_disclosed(self, actor: Actor, rows: Sequence[Any], *, action: str, channel: str, detail: str = "") -> None:
        """Audit what a read or a search disclosed.  Default: one row per patient whose records were shown,
        with this mapper's category and resource type; a domain whose selectors audit their own disclosures
        overrides this to call them, so that every door writes the same rows."""
        if not self.patient_linked:
            return
        ids = [pid for pid in (self.patient_id_of(o) for o in rows) if pid is not None]
        if ids:
            audit.log_patients_read(actor, ids, category=self.audit_category, resource_type=self.resource_type,
                                    action=action, channel=channel, detail=detail)

    def patient_ids_counted(self, qs: QuerySet[Any], limit: int) -> list[int] | None:
        """The distinct patients of the rows ``qs`` counts, at most ``limit`` (None when there are more)."""
        if not self.patient_linked:
            return []
        ids = list(qs.order_by().values_list(self.patient_field, flat=True).distinct()[: limit + 1])
        return None if len(ids) > limit else [int(i) for i in ids if i is not None]

    # --- ids and composition ----------------------------------------------------------------------------
    def fhir_id(self, obj: Any) -> str:
        return f"{self.id_prefix}-{obj.pk}" if self.id_prefix else str(obj.pk)

    def pk_of(self, fhir_id: str) -> int | None:
        """The primary key behind one of this mapper's FHIR ids, or None."""
        raw = fhir_id
        if self.id_prefix:
            if not fhir_id.startswith(f"{self.id_prefix}-"):
                return None
            raw = fhir_id[len(self.id_prefix) + 1:]
        return parse_id(raw)

    def claims(self, resource: dict[str, Any]) -> bool:
        """For a resource type several domains serve: is this new resource this mapper's to create?"""
        return False

    def mapper_for(self, obj: Any) -> ResourceMapper:
        """The mapper that renders ``obj`` (itself, or a part of a composite)."""
        return self

    def parts(self) -> list[ResourceMapper]:
        return [self]

    # --- representation ------------------------------------------------------------------------------
    def version_of(self, obj: Any) -> int:
        return int(getattr(obj, "version", 1)) if self.versioned else 1

    def updated_of(self, obj: Any) -> dt.datetime | None:
        """``meta.lastUpdated``: the row's ``updated_field`` (a ``__`` path may cross a relation)."""
        value: Any = obj
        for name in self.updated_field.split("__") if self.updated_field else ():
            value = getattr(value, name, None)
        return value if isinstance(value, dt.datetime) else None

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
        if not self.id_prefix:
            return {p.name: p for p in (ID_PARAM, *self.search_params)}

        def own_ids(name: str, value: str) -> Q:
            key = self.pk_of(value)
            return Q(pk=key) if key is not None else params.NOTHING

        return {p.name: p for p in (SearchParam("_id", "token", ID_PARAM.documentation, own_ids,
                                                ID_PARAM.definition), *self.search_params)}

    def search_queryset(self, actor: Actor) -> QuerySet[Any]:
        return self.queryset_for(actor)

    # --- the patient compartment ($everything, bulk export) ---------------------------------------------
    def compartment_rows(self, actor: Actor, patient_ids: list[int], since: dt.datetime | None) -> Iterable[Any]:
        """The rows of these patients that the actor may see (the same rows as a search), changed since
        ``since``, in id order.  The caller has checked the actor's access to the patients and the type."""
        qs = self.search_queryset(actor).filter(**{f"{self.patient_field}__in": patient_ids})
        if since is not None:
            names = {f.name for f in self.model._meta.get_fields()}
            stamp = (self.updated_field if self.updated_field in names or "__" in self.updated_field
                     else "created_at" if "created_at" in names else "")
            if stamp:
                qs = qs.filter(**{f"{stamp}__gte": since})
        return self.with_related(qs).order_by("pk").iterator(chunk_size=2000)

    def compartment_resources(self, actor: Actor, patient_ids: list[int], since: dt.datetime | None
                              ) -> Iterator[dict[str, Any]]:
        """FHIR JSON of ``compartment_rows``; a mapper with a faster path overrides either."""
        for row in self.compartment_rows(actor, patient_ids, since):
            yield self.to_fhir(row)


class CompositeMapper(ResourceMapper):
    """One resource type served by several domains (e.g. Observation from symptom monitoring and from needs
    assessments).  Each part keeps its own model, access rules and services:

    - ids: one part may keep plain ids, the others set distinct ``id_prefix`` ("<prefix>-<pk>");
    - read / update: dispatched by id; create: to the one part whose ``claims(resource)`` is true;
    - search: every part the caller's role allows, in registration order, paged one after the other;
      a parameter a part does not support excludes that part's rows (it cannot filter them);
    - the CapabilityStatement lists the union of interactions and search parameters.
    """

    subs: ClassVar[tuple[ResourceMapper, ...]] = ()

    def check_access(self, actor: Actor, interaction: str) -> None:
        denied: Forbidden | None = None
        for sub in self.subs:
            if interaction not in sub.interactions:
                continue
            try:
                sub.check_access(actor, interaction)
                return
            except Forbidden as exc:
                denied = denied or exc
        raise denied or Forbidden(f"Your role does not give access to {self.resource_type} resources.")

    def parts(self) -> list[ResourceMapper]:
        return list(self.subs)

    def _sub_for_id(self, fhir_id: str) -> ResourceMapper | None:
        for sub in self.subs:
            if sub.id_prefix and fhir_id.startswith(f"{sub.id_prefix}-"):
                return sub
        return next((sub for sub in self.subs if not sub.id_prefix), None)

    def read(self, actor: Actor, pk: str) -> Any:
        sub = self._sub_for_id(pk)
        if sub is None or READ not in sub.interactions:
            raise NotFound()
        sub.check_access(actor, READ)
        return sub.read(actor, pk)

    def mapper_for(self, obj: Any) -> ResourceMapper:
        for sub in self.subs:
            if isinstance(obj, sub.model):
                return sub
        raise LookupError(f"No {self.resource_type} mapper for {type(obj).__name__}")

    def patient_id_of(self, obj: Any) -> int | None:
        return self.mapper_for(obj).patient_id_of(obj)

    def owner_patient_id(self, fhir_id: str) -> int | None:
        sub = self._sub_for_id(fhir_id)
        return sub.owner_patient_id(fhir_id) if sub is not None else None

    def fhir_id(self, obj: Any) -> str:
        return self.mapper_for(obj).fhir_id(obj)

    def to_fhir(self, obj: Any) -> dict[str, Any]:
        return self.mapper_for(obj).to_fhir(obj)

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> Any:
        if current is not None:
            sub = self.mapper_for(current)
        else:
            claimed = [s for s in self.subs if CREATE in s.interactions and s.claims(resource)]
            if len(claimed) != 1:
                raise ValidationFailed(f"This server cannot tell which kind of {self.resource_type} this is, or "
                                       "does not accept creating it.")
            sub = claimed[0]
        return sub, sub.from_fhir(resource, actor=actor, current=current)

    def create(self, *, actor: Actor, data: Any) -> Any:
        sub, inner = data
        sub.check_access(actor, CREATE)
        return sub.create(actor=actor, data=inner)

    def update(self, *, actor: Actor, obj: Any, data: Any, expected_version: int | None) -> Any:
        sub, inner = data
        if UPDATE not in sub.interactions:
            raise Forbidden(f"This kind of {self.resource_type} cannot be updated.")
        sub.check_access(actor, UPDATE)
        return sub.update(actor=actor, obj=obj, data=inner, expected_version=expected_version)

    def compartment_resources(self, actor: Actor, patient_ids: list[int], since: dt.datetime | None
                              ) -> Iterator[dict[str, Any]]:
        """Every part in the compartment whose role rule lets the actor search it, one after the other."""
        for sub in self.subs:
            if not in_compartment(sub):
                continue
            try:
                sub.check_access(actor, SEARCH)
            except Forbidden:
                continue
            yield from sub.compartment_resources(actor, patient_ids, since)

    def all_search_params(self) -> dict[str, SearchParam]:
        merged: dict[str, SearchParam] = {}
        for sub in self.subs:
            if SEARCH in sub.interactions:
                for name, param in sub.all_search_params().items():
                    merged.setdefault(name, param)
        return merged


def _compose(resource_type: str, subs: tuple[ResourceMapper, ...]) -> ResourceMapper:
    plain = [s for s in subs if not s.id_prefix]
    prefixes = [s.id_prefix for s in subs if s.id_prefix]
    models = [s.model for s in subs]
    if len(plain) > 1 or len(set(prefixes)) != len(prefixes) or len(set(models)) != len(models):
        names = ", ".join(type(s).__qualname__ for s in subs)
        raise RuntimeError(f"FHIR mappers for {resource_type} ({names}) must each have their own model, and all but "
                           "one a distinct id_prefix.")
    order = (READ, SEARCH, CREATE, UPDATE)
    attrs = {
        "resource_type": resource_type,
        "model": subs[0].model,
        "subs": subs,
        "interactions": tuple(i for i in order if any(i in s.interactions for s in subs)),
        "patient_linked": any(s.patient_linked for s in subs),
        "in_patient_compartment": any(in_compartment(s) for s in subs),
        "documentation": " ".join(s.documentation for s in subs if s.documentation),
    }
    composite: ResourceMapper = type(f"{resource_type}Composite", (CompositeMapper,), attrs)()
    return composite


_REGISTRY: dict[str, ResourceMapper] = {}


def register(cls: type[ResourceMapper]) -> type[ResourceMapper]:
    """Class decorator: make a mapper available at ``/fhir/<resource_type>``.

    Registering a second mapper for a resource type composes them (see CompositeMapper)."""
    existing = _REGISTRY.get(cls.resource_type)
    if existing is None or type(existing).__qualname__ == cls.__qualname__:
        _REGISTRY[cls.resource_type] = cls()
        return cls
    subs = (*tuple(s for s in existing.parts() if type(s).__qualname__ != cls.__qualname__), cls())
    _REGISTRY[cls.resource_type] = _compose(cls.resource_type, subs)
    return cls


def get(resource_type: str) -> ResourceMapper | None:
    return _REGISTRY.get(resource_type)


# (actor, transaction or batch Bundle) -> (HTTP status, response Bundle or OperationOutcome)
BundleHandler = Callable[[Actor, dict[str, Any]], tuple[int, dict[str, Any]]]
BundleClaim = Callable[[dict[str, Any]], bool]
_BUNDLE_HANDLERS: dict[str, tuple[BundleClaim | None, BundleHandler]] = {}


def register_bundle_handler(claims: BundleClaim | None = None) -> Callable[[BundleHandler], BundleHandler]:
    """Decorator: a domain processes the ``POST [base]`` transaction and batch Bundles that ``claims(bundle)``
    is true of; with ``claims=None`` it takes every Bundle no other handler claims (one such per server).

    The handler raises the domain's typed errors (Forbidden, ValidationFailed...) for the view to map."""

    def decorate(handler: BundleHandler) -> BundleHandler:
        name = f"{handler.__module__}.{handler.__qualname__}"
        if claims is None and any(c is None for n, (c, _h) in _BUNDLE_HANDLERS.items() if n != name):
            raise RuntimeError("Only one handler may take the Bundles no other handler claims.")
        _BUNDLE_HANDLERS[name] = (claims, handler)
        return handler

    return decorate


def bundle_handler(bundle: dict[str, Any]) -> BundleHandler | None:
    """The handler for this Bundle: the first registered one that claims it, else the catch-all."""
    fallback = None
    for claims, handler in _BUNDLE_HANDLERS.values():
        if claims is None:
            fallback = handler
        elif claims(bundle):
            return handler
    return fallback


def has_bundle_handlers() -> bool:
    return bool(_BUNDLE_HANDLERS)


def in_compartment(mapper: ResourceMapper) -> bool:
    return mapper.patient_linked if mapper.in_patient_compartment is None else mapper.in_patient_compartment


def patient_compartment() -> list[ResourceMapper]:
    """The resource types served for a patient ($everything, bulk export): Patient first, then by name."""
    found = [m for m in mappers() if in_compartment(m)]
    return sorted(found, key=lambda m: (m.resource_type != "Patient", m.resource_type))


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
    pk = parse_id(parts[-1]) if len(parts) >= 2 and parts[-2] == resource_type else None
    if pk is None:
        raise ValidationFailed(f"{field} must reference a {resource_type}, e.g. {resource_type}/123.",
                               field_errors={field: [f"Expected {resource_type}/<id>."]})
    return pk


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
