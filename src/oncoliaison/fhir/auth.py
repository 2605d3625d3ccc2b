"""Who is calling the FHIR API, the OAuth 2.0 token endpoint and SMART discovery.

Two ways in:
- ``Authorization: Bearer <token>`` issued by ``/fhir/auth/token`` (client-credentials grant, RFC 6749
  §4.4) to a registered system; limited by SMART v2 system scopes.
- A signed-in browser session (the same person as in the pages), limited by their roles.  Writes over
  a session need the CSRF token, exactly as a page form would; staff who must use a second factor must
  have completed it.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from oncoliaison.accounts.services import OAuthError, actor_for_bearer, token_issue, token_revoke
from oncoliaison.accounts.session import session_actor
from oncoliaison.core.actor import Actor
from oncoliaison.core.logfilters import log_unexpected
from oncoliaison.core.scopes import ScopeError

from .outcome import FhirError, bearer_challenge

GRANT_TYPES = ["client_credentials"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def base_url(request: HttpRequest) -> str:
    """The FHIR base URL as clients must use it (PUBLIC_BASE_URL when behind a proxy)."""
    root = settings.PUBLIC_BASE_URL.rstrip("/") if settings.PUBLIC_BASE_URL else request.build_absolute_uri("/")[:-1]
    return f"{root}/fhir"


def _source(request: HttpRequest) -> str:
    return getattr(request, "source_address", "")


def _no_response(request: HttpRequest) -> HttpResponse:  # pragma: no cover - never called
    return HttpResponse()


class _CsrfCheck(CsrfViewMiddleware):
    """Django's CSRF check, answering with the reason instead of rendering the HTML failure page."""

    def _reject(self, request: HttpRequest, reason: str) -> HttpResponse:
        return HttpResponseForbidden(reason)


def actor_for_request(request: HttpRequest) -> Actor:
    """The actor behind a FHIR request, or a 401.  Kept on the request so that a refusal after
    authentication (a 403) is audited under the actor who was refused."""
    actor = _authenticate(request)
    request.fhir_actor = actor  # type: ignore[attr-defined]  # our own request attribute, read by the refusal audit
    return actor


def _authenticate(request: HttpRequest) -> Actor:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise FhirError(401, "Use an OAuth 2.0 bearer token: Authorization: Bearer <token>.", code="login",
                            headers={"WWW-Authenticate": bearer_challenge("invalid_request")})
        # Unauthenticated from the service becomes a 401 with error="invalid_token".
        return actor_for_bearer(raw.strip(), source_address=_source(request))
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        actor = session_actor(request)
        if actor is None:  # the second sign-in step is pending (or the account was just deactivated)
            raise FhirError(401, "Complete the second sign-in step first.", code="login",
                            headers={"WWW-Authenticate": bearer_challenge()})
        if request.method not in {"GET", "HEAD", "OPTIONS"}:
            rejected = _CsrfCheck(_no_response).process_view(request, _no_response, (), {})
            if rejected is not None:
                reason = rejected.content.decode()[:200]
                raise FhirError(403, f"A signed-in session must send the CSRF token with changes ({reason})",
                                code="security")
        return actor
    raise FhirError(401, "Authentication required: send an OAuth 2.0 bearer token.", code="login",
                    headers={"WWW-Authenticate": bearer_challenge()})


# --- OAuth 2.0 token endpoint --------------------------------------------------------------------------


def _oauth_error(error: str, description: str, status: int = 400, retry_after: int | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps({"error": error, "error_description": description}), status=status,
                            content_type="application/json")
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="fhir"'
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _basic_credentials(header: str) -> tuple[str, str] | None:
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return ("", "")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before base64.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


@csrf_exempt
def token(request: HttpRequest) -> HttpResponse:
    """POST grant_type=client_credentials [&scope=...]; client_secret_basic or client_secret_post."""
    try:
        return _token(request)
    except Exception as exc:  # an RFC 6749 error body, never a debug page; log no data

        log_unexpected(request, exc, "FHIR")
        return _oauth_error("server_error", "Something went wrong on our side; it has been logged.", 500)


def _client_credentials(request: HttpRequest, params: tuple[str, ...]) -> tuple[str, str] | HttpResponse:
    """The POSTed form's client id and secret (client_secret_basic or client_secret_post), or an error."""
    if request.method != "POST":
        response = _oauth_error("invalid_request", "Use POST.", 405)
        response["Allow"] = "POST"
        return response
    if request.content_type != "application/x-www-form-urlencoded":
        return _oauth_error("invalid_request", "Send the parameters as application/x-www-form-urlencoded.")
    form = request.POST
    for name in (*params, "client_id", "client_secret"):
        if len(form.getlist(name)) > 1:
            return _oauth_error("invalid_request", f"Parameter '{name}' is repeated.")
    basic = _basic_credentials(request.headers.get("Authorization", ""))
    posted = form.get("client_secret")
    if basic is not None and posted is not None:
        return _oauth_error("invalid_request", "Use one client authentication method, not two.")
    if basic is not None:
        client_id, secret = basic
        if form.get("client_id") not in (None, client_id):
            return _oauth_error("invalid_request", "client_id in the body differs from the Authorization header.")
    elif posted is not None:
        client_id, secret = form.get("client_id", ""), posted
    else:
        return _oauth_error("invalid_client", "Authenticate the client (client_secret_basic or client_secret_post).",
                            401)
    return client_id, secret


def _token(request: HttpRequest) -> HttpResponse:
    credentials = _client_credentials(request, ("grant_type", "scope"))
    if isinstance(credentials, HttpResponse):
        return credentials
    client_id, secret = credentials
    form = request.POST
    grant = form.get("grant_type", "")
    if not grant:
        return _oauth_error("invalid_request", "grant_type is required.")
    if grant not in GRANT_TYPES:
        return _oauth_error("unsupported_grant_type", "Only the client_credentials grant is supported.")
    if not client_id or not secret:
        return _oauth_error("invalid_client", "Client authentication failed.", 401)
    try:
        issued = token_issue(client_id=client_id, client_secret=secret, requested_scope=form.get("scope", ""),
                             source_address=_source(request))
    except OAuthError as exc:
        return _oauth_error(exc.error, exc.description, exc.status, exc.retry_after)
    except ScopeError as exc:  # the client's own registered scopes no longer parse
        return _oauth_error("invalid_scope", str(exc))
    response = HttpResponse(
        orjson.dumps({"access_token": issued.access_token, "token_type": "Bearer", "expires_in": issued.expires_in,
                      "scope": issued.scope}),
        content_type="application/json",
    )
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


# --- RFC 7009 token revocation ------------------------------------------------------------------------------


@csrf_exempt
def revoke(request: HttpRequest) -> HttpResponse:
    """POST token=<access token> [&token_type_hint=access_token]; the client authenticates as at the token
    endpoint.  200 with an empty body whether or not the token was live (RFC 7009 §2.2)."""
    try:
        credentials = _client_credentials(request, ("token", "token_type_hint"))
        if isinstance(credentials, HttpResponse):
            return credentials
        client_id, secret = credentials
        token_value = request.POST.get("token", "")
        if not token_value:
            return _oauth_error("invalid_request", "token is required.")
        if not client_id or not secret:
            return _oauth_error("invalid_client", "Client authentication failed.", 401)
        try:
            token_revoke(client_id=client_id, client_secret=secret, token=token_value,
                         source_address=_source(request))
        except OAuthError as exc:
            return _oauth_error(exc.error, exc.description, exc.status, exc.retry_after)
    except Exception as exc:  # an RFC 6749 error body, never a debug page; log no data

        log_unexpected(request, exc, "FHIR")
        return _oauth_error("server_error", "Something went wrong on our side; it has been logged.", 500)
    response = HttpResponse(b"", content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


# --- SMART discovery ----------------------------------------------------------------------------------


def scopes_supported() -> list[str]:
    from . import registry

    scopes = ["system/*.cruds"]
    for mapper in registry.mappers():
        letters = "".join(letter for letter in "cruds" if any(
            registry.SCOPE_LETTER[i] == letter for i in mapper.interactions))
        scopes.append(f"system/{mapper.resource_type}.{letters}")
    return scopes


@require_GET
def smart_configuration(request: HttpRequest) -> HttpResponse:
    base = base_url(request)
    body = {
        "token_endpoint": f"{base}/auth/token",
        "revocation_endpoint": f"{base}/auth/revoke",
        "grant_types_supported": GRANT_TYPES,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "scopes_supported": scopes_supported(),
        "capabilities": ["client-confidential-symmetric", "permission-v2"],
    }
    response = HttpResponse(orjson.dumps(body), content_type="application/json")
    response["Access-Control-Allow-Origin"] = "*"
    return response
