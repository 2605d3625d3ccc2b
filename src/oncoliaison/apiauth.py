"""Who is calling the JSON API, and how its errors look.

Two ways in, both ending in an :class:`~oncoliaison.core.actor.Actor`:

- **Bearer token** (systems): ``Authorization: Bearer <token>`` from the OAuth 2.0 client-credentials
  grant.  The actor is limited by the token's SMART v2 scopes (``core.access.require_scope``).
- **Session** (the pages' own JavaScript and people trying the API in the browser): the Django session
  cookie, with the CSRF token required on unsafe methods.  A staff member who has not completed the
  second factor where it is required is not signed in as far as the API is concerned.

Errors all have one shape: ``{"error": code, "message": text, "fields": {name: [text, ...]}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import APIKeyCookie, HttpBearer

from oncoliaison.accounts.services import actor_for_bearer
from oncoliaison.accounts.session import session_actor
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    DomainError,
    NotFound,
    PreconditionFailed,
    PreconditionRequired,
    Unauthenticated,
    ValidationFailed,
)
from oncoliaison.core.logfilters import log_unexpected
from oncoliaison.core.refusals import audit_refused_request
from oncoliaison.core.versions import version_from_etag

CHANNEL = "api"
logger = logging.getLogger("oncoliaison.api")


# --- authentication -------------------------------------------------------------------------------


class BearerTokenAuth(HttpBearer):
    """An OAuth 2.0 bearer token issued to an API client; the actor carries the token's scopes."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        token = token.strip()
        if not token:
            return None
        # An invalid or expired token is refused outright (never falls back to the session).
        return actor_for_bearer(token, source_address=getattr(request, "source_address", ""))


class SessionActorAuth(APIKeyCookie):
    """The signed-in person of the Django session; CSRF is checked on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None  # no CSRF question without a session: the answer is 401
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return session_actor(request)


bearer_auth = BearerTokenAuth()
session_auth = SessionActorAuth()
API_AUTH = [bearer_auth, session_auth]


def actor_of(request: HttpRequest) -> Actor:
    """The actor that authenticated this request (set by one of the API_AUTH handlers)."""
    actor = getattr(request, "auth", None)
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise Unauthenticated("Sign in or send a bearer token.")
    return actor  # type: ignore[no-any-return]  # request.auth is what an API_AUTH handler returned: an Actor


# --- scopes and versions ------------------------------------------------------------------------------


def expected_version(request: HttpRequest, body_version: int | None) -> int:
    """The version the caller last read: ``If-Match`` (``W/"3"``, ``"3"`` or ``3``) or the body's
    ``version``.  Updates without one are refused, so that nobody overwrites a change unseen."""
    header = request.headers.get("If-Match", "").strip()
    from_header: int | None = None
    if header:
        from_header = version_from_etag(header)
        if from_header is None:
            raise PreconditionFailed("If-Match must carry the record's version, e.g. W/\"3\".")
    if from_header is not None and body_version is not None and from_header != body_version:
        raise ValidationFailed("If-Match and version disagree.", field_errors={"version": ["Differs from If-Match."]})
    version = from_header if from_header is not None else body_version
    if version is None:
        raise PreconditionRequired(
            "Send the version you read (If-Match header or version field).",
            field_errors={"version": ["Required."]},
        )
    return version


# --- errors -----------------------------------------------------------------------------------------


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": code, "message": message, "fields": fields or {}}


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """ninja's error location (e.g. ``["body", "payload", "given_name"]``) as the field's name."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
        parts = parts[1:]
        if len(parts) > 1 and parts[0] in {"payload", "data", "filters"}:
            parts = parts[1:]
    return ".".join(parts) or "body"


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for err in errors:
        fields.setdefault(_field_name(err.get("loc", ())), []).append(str(err.get("msg", "Invalid value.")))
    return fields


def install_error_handlers(api: NinjaAPI) -> None:
    """Map typed domain errors and ninja's own errors to the one JSON error shape."""

    def _respond(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
        if status in {401, 403}:
            # The authenticated actor; else the session's person (a CSRF refusal); else none (a 401).
            actor = getattr(request, "auth", None)
            audit_refused_request(request, status, str(body.get("message", "")), channel=CHANNEL,
                                  actor=actor if isinstance(actor, Actor) else getattr(request, "actor", None))
        response = api.create_response(request, body, status=status)
        if status == 401:
            response["WWW-Authenticate"] = 'Bearer realm="oncoliaison"'
        return response

    def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        if isinstance(exc, NotFound):
            # Identical for "missing" and "not visible": the message is never the caller's.
            return _respond(request, 404, error_body(NotFound.code, "Not found."))
        return _respond(request, exc.status, error_body(exc.code, exc.message, exc.field_errors))

    def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        return _respond(
            request, 422, error_body(ValidationFailed.code, "The request is not valid.", validation_fields(exc.errors))
        )

    def on_authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _respond(request, 401, error_body(Unauthenticated.code, "Sign in or send a bearer token."))

    def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        codes = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "method", 429: "throttled"}
        message = exc.message
        if exc.status_code == 403 and "CSRF" in message:
            message = "The CSRF token is missing or wrong (send X-CSRFToken with session requests)."
        return _respond(request, exc.status_code, error_body(codes.get(exc.status_code, "error"), message))

    def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _respond(request, 404, error_body(NotFound.code, "Not found."))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        log_unexpected(request, exc, "API")
        return _respond(request, 500, error_body("server", "Something went wrong on our side; it has been logged."))

    def on_bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
        return _respond(request, 400, error_body("invalid", "The multipart body is malformed (no or a bad boundary); "
                                                            "send JSON."))

    def on_too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return _respond(request, 413, error_body("too-large", "The request body is larger than this server accepts."))

    api.add_exception_handler(Exception, on_unexpected)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(RequestDataTooBig, on_too_big)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(MultiPartParserError, on_bad_multipart)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(DomainError, on_domain_error)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(ValidationError, on_validation_error)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(AuthenticationError, on_authentication_error)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(HttpError, on_http_error)  # type: ignore[arg-type]  # ninja's handler type also admits the class
    api.add_exception_handler(Http404, on_404)  # type: ignore[arg-type]  # ninja's handler type also admits the class


# --- pagination ---------------------------------------------------------------------------------------

MAX_PAGE_SIZE = 100


def page_of(qs: Any, *, page: int, page_size: int) -> tuple[list[Any], dict[str, int]]:
    """One page of an ordered queryset, and the page's metadata (count, page, page_size, pages)."""
    page = max(page, 1)
    page_size = min(max(page_size, 1), MAX_PAGE_SIZE)
    count = qs.count()
    start = (page - 1) * page_size
    items = list(qs[start : start + page_size]) if start < count else []
    pages = (count + page_size - 1) // page_size
    return items, {"count": count, "page": page, "page_size": page_size, "pages": pages}


# --- translation -------------------------------------------------------------------------------------


def organization_pk(slug: str | None, field: str) -> int | None:
    """The id of the organisation an input names by slug (None for none); an unknown slug is bad input."""
    from oncoliaison.organisations.models import Organization

    if not slug:
        return None
    pk = Organization.objects.filter(slug=slug).values_list("pk", flat=True).first()
    if pk is None:
        raise ValidationFailed("Unknown organisation.", field_errors={field: [f"No organisation '{slug}'."]})
    return pk
