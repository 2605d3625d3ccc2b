"""The FHIR R4 REST interactions: read, search (GET and POST _search), create, update.

Plain Django views on the hot path: mappers build dicts, orjson writes them.  Incoming resources are
validated with the ``fhir.resources`` R4B models before a mapper translates them for a service.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

import orjson
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.http import http_date
from django.views.decorators.csrf import csrf_exempt
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from oncoliaison.core import audit, clock, idempotency
from oncoliaison.core.access import require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound, PreconditionFailed
from oncoliaison.core.logfilters import log_unexpected
from oncoliaison.core.models import AuditAction
from oncoliaison.core.refusals import audit_refused_request
from oncoliaison.core.versions import etag, version_from_etag

from . import registry
from .auth import actor_for_request, base_url
from .capability import capability_statement
from .codes import instant
from .outcome import FhirError, error_response, fhir_response
from .registry import CREATE, READ, SCOPE_LETTER, SEARCH, UPDATE, ResourceMapper
from .validation import MAX_DEPTH, too_deep

CHANNEL = "fhir"
_JSON_FORMATS = {"json", "application/json", "application/fhir+json", "application/json+fhir"}
_BODY_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}
_RESULT_PARAMS = {"_count", "_total", "_cursor", "_format", "_pretty"}
_COMMA = re.compile(r"(?<!\\),")

View = Callable[..., HttpResponse]
logger = logging.getLogger(__name__)


def fhir_view(view: View) -> View:
    """Content negotiation and error mapping shared by every FHIR endpoint."""

    @csrf_exempt  # bearer-token clients have no CSRF cookie; sessions are checked in actor_for_request
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            _negotiate(request)
            return view(request, *args, **kwargs)
        except (FhirError, DomainError, ValidationError) as exc:
            if not isinstance(exc, ValidationError):
                _audit_refusal(request, exc)
            return error_response(exc)
        except RequestDataTooBig:
            return error_response(FhirError(413, "The request body is too large.", code="too-costly"))
        except MultiPartParserError:
            return error_response(FhirError(400, "The multipart body is malformed (no or a bad boundary).",
                                            code="structure"))
        except Exception as exc:  # answer FHIR clients with an OperationOutcome; log no data
            log_unexpected(request, exc, "FHIR")
            return error_response(FhirError(500, "Something went wrong on our side; it has been logged.",
                                            code="exception"))

    return wrapped


def _negotiate(request: HttpRequest) -> None:
    fmt = request.GET.get("_format")
    if fmt is not None and fmt.split(";")[0].strip() not in _JSON_FORMATS:
        raise FhirError(406, "Only JSON is supported: _format=json or application/fhir+json.")
    accept = request.headers.get("Accept", "")
    if accept and fmt is None:
        kinds = [a.split(";")[0].strip() for a in accept.split(",")]
        if not any(k in _JSON_FORMATS or k in {"*/*", "application/*"} for k in kinds):
            raise FhirError(406, "Only application/fhir+json (or application/json) can be returned.")


def _mapper(rtype: str) -> ResourceMapper:
    mapper = registry.get(rtype)
    if mapper is None:
        raise FhirError(404, f"Resource type '{rtype}' is not supported by this server.", code="not-supported")
    return mapper


def _not_allowed(mapper: ResourceMapper, method: str, allowed: list[str]) -> FhirError:
    return FhirError(405, f"{method} is not supported here for {mapper.resource_type}.",
                     headers={"Allow": ", ".join(allowed)})


def _require(actor: Actor, mapper: ResourceMapper, interaction: str) -> None:
    """403 when the token's scopes or the person's roles do not allow this kind of interaction."""
    if actor.is_system:
        require_scope(actor, mapper.resource_type, SCOPE_LETTER[interaction])
    mapper.check_access(actor, interaction)


def _headers(m: ResourceMapper, obj: Any, base: str) -> dict[str, str]:
    """``m``: the mapper that renders ``obj`` (``mapper.mapper_for(obj)``)."""
    headers = {"ETag": etag(m.version_of(obj))}
    updated = m.updated_of(obj)
    if updated is not None:
        headers["Last-Modified"] = http_date(updated.timestamp())
    headers["Content-Location"] = f"{base}/{m.resource_type}/{m.fhir_id(obj)}"
    return headers


def _render(m: ResourceMapper, obj: Any) -> dict[str, Any]:
    body = m.to_fhir(obj)
    if m.id_prefix:
        body["id"] = m.fhir_id(obj)
    return body


def _wants_minimal(request: HttpRequest) -> bool:
    return "return=minimal" in request.headers.get("Prefer", "").replace(" ", "")


def _audit_disclosed(actor: Actor, mapper: ResourceMapper, rows: list[Any], action: str, detail: str = "") -> None:
    mapper.audit_disclosed(actor, rows, action=action, channel=CHANNEL, detail=detail)


def _category(mapper: ResourceMapper) -> str:
    return mapper.audit_category or next((p.audit_category for p in mapper.parts() if p.patient_linked), "")


def _read_visible(actor: Actor, mapper: ResourceMapper, pk: str) -> Any:
    try:
        return mapper.read(actor, pk)
    except NotFound as exc:
        if mapper.patient_linked and not exc.audited:
            # The same 404 as a missing record; the row names the patient for their organisation only.
            audit.log_refused(actor, category=_category(mapper), resource_type=mapper.resource_type,
                              resource_id=pk[:64], patient_id=mapper.owner_patient_id(pk), channel=CHANNEL)
        raise


def _audit_refusal(request: HttpRequest, exc: Exception) -> None:
    """Every 401 and 403 of the FHIR API is an audited refused attempt; an instance URL names the
    resource (and, for its organisation only, the patient)."""
    status = exc.status if isinstance(exc, FhirError | DomainError) else 0
    if status not in {401, 403}:
        return
    kwargs = getattr(getattr(request, "resolver_match", None), "kwargs", {}) or {}
    mapper = registry.get(str(kwargs.get("rtype", "")))
    pk = str(kwargs.get("pk", ""))[:64]
    audit_refused_request(
        request, status, exc.message if isinstance(exc, DomainError) else str(exc), channel=CHANNEL,
        actor=getattr(request, "fhir_actor", None), category=_category(mapper) if mapper else "",
        resource_type=mapper.resource_type if mapper else "", resource_id=pk,
        patient_id=mapper.owner_patient_id(pk) if mapper and pk else None)


# --- instance level: read, update ---------------------------------------------------------------------


@fhir_view
def instance(request: HttpRequest, rtype: str, pk: str) -> HttpResponse:
    mapper = _mapper(rtype)
    allowed = [m for m, i in (("GET", READ), ("PUT", UPDATE)) if i in mapper.interactions]
    if request.method == "GET" and READ in mapper.interactions:
        return _read(request, mapper, pk)
    if request.method == "PUT" and UPDATE in mapper.interactions:
        return _update(request, mapper, pk)
    raise _not_allowed(mapper, request.method or "", allowed)


def _read(request: HttpRequest, mapper: ResourceMapper, pk: str) -> HttpResponse:
    actor = actor_for_request(request)
    _require(actor, mapper, READ)
    obj = _read_visible(actor, mapper, pk)
    m = mapper.mapper_for(obj)
    headers = _headers(m, obj, base_url(request))
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match and version_from_etag(if_none_match) == m.version_of(obj):
        # "Not modified" still tells the client what the record holds now: an audited read.
        _audit_disclosed(actor, m, [obj], AuditAction.READ, detail="not modified (304)")
        response = HttpResponse(status=304)
        for name, value in headers.items():
            response[name] = value
        return response
    body = _render(m, obj)
    _audit_disclosed(actor, m, [obj], AuditAction.READ)
    return fhir_response(body, 200, headers)


def _if_match(request: HttpRequest) -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    version = version_from_etag(header)
    if version is None:
        raise FhirError(400, 'If-Match must be a version ETag such as W/"3".', expression=["If-Match"])
    return version


def read_body(request: HttpRequest, limit: int) -> bytes:
    """Read the request body under this endpoint's own size limit instead of DATA_UPLOAD_MAX_MEMORY_SIZE
    (413 beyond it).  The bytes stay on the request, so ``request.body`` (the parser, the idempotency
    fingerprint) reads them again without the global limit: Django keeps a read body in ``_body``."""
    if hasattr(request, "_body"):
        return request.body
    too_large = FhirError(413, f"The request body is larger than this server takes here ({limit // 2**20} MiB).",
                          code="too-costly")
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > limit:
        raise too_large
    data = request.read(limit + 1)
    if len(data) > limit:
        raise too_large
    request._body = data  # Django's cache of the read body (HttpRequest.body)
    return data


def _body(request: HttpRequest, rtype: str) -> dict[str, Any]:
    if request.content_type not in _BODY_TYPES:
        raise FhirError(415, "Send the resource as application/fhir+json.")
    try:
        resource = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise FhirError(400, "The request body is not valid JSON.", code="structure") from None
    if not isinstance(resource, dict):
        raise FhirError(400, "The request body must be a JSON object (a FHIR resource).", code="structure")
    if too_deep(resource):
        raise FhirError(400, f"The resource is nested deeper than {MAX_DEPTH} levels.", code="too-costly")
    if resource.get("resourceType") != rtype:
        raise FhirError(400, f"The body must be a {rtype} resource (resourceType '{rtype}').",
                        expression=["resourceType"])
    return resource


def _validate(rtype: str, resource: dict[str, Any]) -> None:
    """Structural validation against the FHIR R4 (R4B) model; raises pydantic's ValidationError -> 422."""
    get_fhir_model_class(rtype).model_validate(resource)


def _write_response(request: HttpRequest, mapper: ResourceMapper, written: Any, status: int) -> HttpResponse:
    m = mapper.mapper_for(written)
    obj = m.with_related(type(written)._default_manager.filter(pk=written.pk)).get()  # as stored now
    base = base_url(request)
    headers = _headers(m, obj, base)
    if status == 201:
        headers["Location"] = f"{base}/{m.resource_type}/{m.fhir_id(obj)}"
    if _wants_minimal(request):
        response = HttpResponse(status=status)
        for name, value in headers.items():
            response[name] = value
        return response
    return fhir_response(_render(m, obj), status, headers)


def _once(request: HttpRequest, actor: Actor, call: Callable[[], HttpResponse]) -> HttpResponse:
    """Creates, updates and Bundles honour ``Idempotency-Key``: a replay with the same key and body answers
    the original status, Location and body and changes nothing; the same key with another body is a 422
    (``core.idempotency``)."""
    raw = request.headers.get(idempotency.HEADER)
    if raw is None:
        return call()
    keyed = idempotency.KeyedRequest(idempotency.checked_key(raw), idempotency.raw_fingerprint(request),
                                     request.method or "", request.path)
    return idempotency.run_once(keyed, idempotency.owner_of_actor(actor), call)  # type: ignore[return-value]  # the call answers an HttpResponse, and so does its replay


def _update(request: HttpRequest, mapper: ResourceMapper, pk: str) -> HttpResponse:
    actor = actor_for_request(request)
    _require(actor, mapper, UPDATE)
    return _once(request, actor, lambda: _update_as(request, actor, mapper, pk))


def _update_as(request: HttpRequest, actor: Actor, mapper: ResourceMapper, pk: str) -> HttpResponse:
    resource = _body(request, mapper.resource_type)
    if "id" not in resource:
        raise FhirError(400, "An update must carry the resource id (the same as in the URL).", expression=["id"])
    if str(resource["id"]) != pk:
        raise FhirError(409, "The id in the body differs from the id in the URL.", code="conflict",
                        expression=["id"])
    _validate(mapper.resource_type, resource)
    expected = _if_match(request)
    obj = _read_visible(actor, mapper, pk)
    current_version = mapper.mapper_for(obj).version_of(obj)
    if expected is not None and expected != current_version:
        raise PreconditionFailed(
            f"If-Match names version {expected} but the current version is {current_version}. "
            "Read the resource again and re-apply your change."
        )
    data = mapper.from_fhir(resource, actor=actor, current=obj)
    updated = mapper.update(actor=actor, obj=obj, data=data, expected_version=expected)
    return _write_response(request, mapper, updated, 200)


# --- type level: search, create ---------------------------------------------------------------------


@fhir_view
def type_level(request: HttpRequest, rtype: str) -> HttpResponse:
    mapper = _mapper(rtype)
    allowed = [m for m, i in (("GET", SEARCH), ("POST", CREATE)) if i in mapper.interactions]
    if request.method == "GET" and SEARCH in mapper.interactions:
        return _search(request, mapper, list(request.GET.lists()))
    if request.method == "POST" and CREATE in mapper.interactions:
        return _create(request, mapper)
    raise _not_allowed(mapper, request.method or "", allowed)


@fhir_view
def search_post(request: HttpRequest, rtype: str) -> HttpResponse:
    mapper = _mapper(rtype)
    if request.method != "POST" or SEARCH not in mapper.interactions:
        raise _not_allowed(mapper, request.method or "", ["POST"] if SEARCH in mapper.interactions else [])
    if request.content_type != "application/x-www-form-urlencoded":
        raise FhirError(415, "Send _search parameters as application/x-www-form-urlencoded.")
    items: dict[str, list[str]] = {}
    for source in (request.GET, request.POST):
        for name, values in source.lists():
            items.setdefault(name, []).extend(values)
    return _search(request, mapper, list(items.items()))


def _create(request: HttpRequest, mapper: ResourceMapper) -> HttpResponse:
    actor = actor_for_request(request)
    _require(actor, mapper, CREATE)
    return _once(request, actor, lambda: _create_as(request, actor, mapper))


def _create_as(request: HttpRequest, actor: Actor, mapper: ResourceMapper) -> HttpResponse:
    resource = _body(request, mapper.resource_type)
    resource.pop("id", None)  # the server assigns ids (FHIR create ignores a client's id)
    _validate(mapper.resource_type, resource)
    data = mapper.from_fhir(resource, actor=actor)
    obj = mapper.create(actor=actor, data=data)
    return _write_response(request, mapper, obj, 201)


def _split(raw: str) -> list[str]:
    return [v.replace("\\,", ",") for v in _COMMA.split(raw)]


def _search(request: HttpRequest, mapper: ResourceMapper, items: list[tuple[str, list[str]]]) -> HttpResponse:
    actor = actor_for_request(request)
    _require(actor, mapper, SEARCH)
    lenient = "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")
    known = mapper.all_search_params()
    # One part per mapper serving this type (one, unless several domains share the type) that the
    # caller's role may search; a part that cannot evaluate a given parameter drops out (None).
    parts: list[tuple[ResourceMapper, QuerySet[Any] | None]] = []
    for part in mapper.parts():
        if SEARCH not in part.interactions:
            continue
        try:
            part.check_access(actor, SEARCH)
        except Forbidden:
            continue
        parts.append((part, part.search_queryset(actor)))
    count, cursor, total_mode = settings.FHIR_DEFAULT_COUNT, (0, 0), "accurate"
    used: list[tuple[str, str]] = []
    for name, values in items:
        for raw in values:
            if name in _RESULT_PARAMS:
                count, cursor, total_mode = _result_param(name, raw, count, cursor, total_mode)
                if name == "_total":
                    used.append((name, raw))
                continue
            if name not in known:
                if lenient:
                    continue
                supported = ", ".join(sorted(known))
                raise FhirError(400, f"Unknown or unsupported search parameter '{name}' for "
                                     f"{mapper.resource_type}. Supported: {supported}.", code="not-supported",
                                expression=[name])
            if raw == "":
                continue  # FHIR: an empty parameter value is ignored
            if "\x00" in raw:  # no text column can hold NUL (PostgreSQL refuses it outright)
                raise FhirError(400, f"Search parameter '{name}': a value cannot contain the NUL character.",
                                expression=[name])
            filtered: list[tuple[ResourceMapper, QuerySet[Any] | None]] = []
            for part, qs in parts:
                param = part.all_search_params().get(name)
                if qs is None or param is None:
                    filtered.append((part, None))
                    continue
                q = Q()
                for value in _split(raw):
                    q |= param.filter(name, value)
                filtered.append((part, qs.filter(q)))
            parts = filtered
            used.append((name, raw))
    live = [(i, part, qs) for i, (part, qs) in enumerate(parts) if qs is not None]

    total = sum(qs.count() for _, _, qs in live) if total_mode != "none" else None
    rows: list[tuple[int, ResourceMapper, Any]] = []
    if count > 0:
        for i, part, qs in live:
            if i < cursor[0] or len(rows) > count:
                continue
            page = part.with_related(qs.order_by("pk"))
            if i == cursor[0] and cursor[1]:
                page = page.filter(pk__gt=cursor[1])
            rows.extend((i, part, o) for o in page[: count + 1 - len(rows)])
    has_next = len(rows) > count
    rows = rows[:count]

    base = base_url(request)
    entries = [
        {"fullUrl": f"{base}/{part.resource_type}/{part.fhir_id(o)}", "resource": _render(part, o),
         "search": {"mode": "match"}}
        for _, part, o in rows
    ]
    for part in {id(p): p for _, p, _ in rows}.values():
        _audit_disclosed(actor, part, [o for _, p, o in rows if p is part], AuditAction.SEARCH)
    if total is not None and total > len(rows):
        _audit_counted(actor, mapper, live, total, {part.patient_id_of(o) for _, part, o in rows})

    def link(extra: list[tuple[str, str]]) -> str:
        return f"{base}/{mapper.resource_type}?{urlencode([*used, ('_count', str(count)), *extra])}"

    def cursor_value(index: int, pk: int) -> str:
        return str(pk) if len(parts) == 1 else f"{index}.{pk}"

    links = [{"relation": "self", "url": link([("_cursor", cursor_value(*cursor))] if any(cursor) else [])}]
    if has_next:
        last_index, _, last = rows[-1]
        links.append({"relation": "next", "url": link([("_cursor", cursor_value(last_index, last.pk))])})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "meta": {"lastUpdated": instant(clock.now())},
                              "type": "searchset"}
    if total is not None:
        bundle["total"] = total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return fhir_response(bundle)


def _audit_counted(actor: Actor, mapper: ResourceMapper, live: list[tuple[int, ResourceMapper, QuerySet[Any]]],
                   total: int, shown: set[int | None]) -> None:
    """A search's total discloses the records it counts beyond its entries (``_count=0`` asks for the
    total alone): one row per patient counted, or — when it counts more patients than a page holds, an
    aggregate rather than anyone's record — one row for the count.  Only runs when the total exceeds the
    entries, so an ordinary search pays nothing more."""
    limit = settings.FHIR_MAX_COUNT
    for _, part, qs in live:
        if not part.patient_linked:
            continue
        ids = part.patient_ids_counted(qs, limit)
        if ids is None:
            audit.log(actor, AuditAction.SEARCH, category=_category(mapper), resource_type=mapper.resource_type,
                      detail=f"total {total:,} counted over more than {limit} patients", channel=CHANNEL)
            return
        ids = [i for i in ids if i not in shown]  # the entries' patients are audited already
        if ids:
            audit.log_patients_read(actor, ids, category=part.audit_category, resource_type=part.resource_type,
                                    action=AuditAction.SEARCH, channel=CHANNEL, detail=f"counted in total {total:,}")


_CURSOR = re.compile(r"^(?:(?P<part>\d{1,3})\.)?(?P<pk>\d{1,18})$")


def _result_param(name: str, raw: str, count: int, cursor: tuple[int, int],
                  total_mode: str) -> tuple[int, tuple[int, int], str]:
    if name == "_count":
        if not raw.isdigit():
            raise FhirError(400, "_count must be a whole number.", expression=["_count"])
        count = min(int(raw), settings.FHIR_MAX_COUNT)
    elif name == "_cursor":
        m = _CURSOR.match(raw)
        if not m:
            raise FhirError(400, "_cursor is not valid; follow the Bundle's next link.", expression=["_cursor"])
        cursor = (int(m["part"] or 0), int(m["pk"]))
    elif name == "_total":
        if raw not in {"none", "estimate", "accurate"}:
            raise FhirError(400, "_total must be none, estimate or accurate.", expression=["_total"])
        total_mode = raw
    return count, cursor, total_mode


# --- system level --------------------------------------------------------------------------------------


@fhir_view
def metadata(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        raise FhirError(405, "Use GET.", headers={"Allow": "GET"})
    return fhir_response(capability_statement(base_url(request)))


@fhir_view
def system_level(request: HttpRequest) -> HttpResponse:
    """``POST [base]`` with a transaction or batch Bundle, handed to the domain that registered for it."""
    if not registry.has_bundle_handlers():
        raise FhirError(404, "Transaction and batch Bundles are not supported by this server.", code="not-supported")
    if request.method != "POST":
        raise FhirError(405, "POST a transaction or batch Bundle here.", headers={"Allow": "POST"})
    actor = actor_for_request(request)
    read_body(request, settings.FHIR_BUNDLE_MAX_BYTES)
    bundle = _body(request, "Bundle")
    if bundle.get("type") not in {"transaction", "batch"}:
        raise FhirError(400, "POST [base] takes a Bundle of type transaction or batch.", expression=["type"])
    handler = registry.bundle_handler(bundle)  # the domain that registered for this kind of Bundle
    if handler is None:
        raise FhirError(400, "No part of this server processes this kind of Bundle.", code="not-supported")

    def run() -> HttpResponse:
        status, body = handler(actor, bundle)
        return fhir_response(body, status)

    return _once(request, actor, run)


@fhir_view
def unknown(request: HttpRequest) -> HttpResponse:
    raise FhirError(404, "This FHIR endpoint or interaction is not supported.", code="not-supported")
