"""OperationOutcome responses, and how typed domain errors map to FHIR HTTP statuses.

    400 malformed JSON, unknown search parameter, bad parameter value, wrong resourceType
    401 no or bad credentials (with ``WWW-Authenticate: Bearer``)
    403 the actor lacks the role or the token lacks the scope for this kind of action
    404 unknown, or not visible to this actor: the body is identical in both cases
    405 interaction not supported on this resource type
    406 a response format other than JSON was asked for
    409 conflict (duplicate identifier, id in the body differs from the URL)
    412 If-Match names a stale version
    413 the request body is larger than the server accepts
    415 request body is not application/fhir+json or application/json
    422 the resource fails FHIR validation or a business rule
    500 an unexpected error (logged by type and code path only, never its message)
"""

from __future__ import annotations

from typing import Any

import orjson
from django.http import HttpResponse
from pydantic import ValidationError

from oncoliaison.core.errors import DomainError, Unauthenticated

FHIR_JSON = "application/fhir+json; charset=utf-8"

# HTTP status -> OperationOutcome issue code (http://hl7.org/fhir/issue-type)
_ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    412: "conflict",
    413: "too-costly",
    415: "not-supported",
    422: "processing",
    500: "exception",
}
NOT_FOUND_TEXT = "The resource was not found."


class FhirError(Exception):
    """An error raised by the protocol layer itself (not by a domain service)."""

    def __init__(self, status: int, diagnostics: str, *, code: str = "", expression: list[str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(diagnostics)
        self.status = status
        self.diagnostics = diagnostics
        self.code = code or _ISSUE_CODE.get(status, "exception")
        self.expression = expression
        self.headers = headers or {}


def issue(code: str, diagnostics: str, *, severity: str = "error", expression: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = expression
    return out


def outcome(issues: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def fhir_response(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def outcome_response(status: int, issues: list[dict[str, Any]], headers: dict[str, str] | None = None) -> HttpResponse:
    return fhir_response(outcome(issues), status, headers)


def bearer_challenge(error: str = "") -> str:
    challenge = 'Bearer realm="fhir"'
    if error:
        challenge += f', error="{error}"'
    return challenge


def _pydantic_issues(exc: ValidationError) -> list[dict[str, Any]]:
    issues = []
    for err in exc.errors()[:50]:
        path = ".".join(str(p) for p in err.get("loc", ()) if not isinstance(p, int)) or "(resource)"
        code = "required" if err.get("type") == "missing" else "structure"
        issues.append(issue(code, f"{path}: {err.get('msg', 'invalid')}", expression=[path]))
    return issues


def error_response(exc: Exception) -> HttpResponse:
    """The OperationOutcome for a protocol, domain or validation error."""
    if isinstance(exc, FhirError):
        return outcome_response(exc.status, [issue(exc.code, exc.diagnostics, expression=exc.expression)],
                                exc.headers)
    if isinstance(exc, ValidationError):
        return outcome_response(422, _pydantic_issues(exc))
    if isinstance(exc, DomainError):
        status = exc.status
        if status == 404:
            # Identical for "missing" and "not yours": never echo ids or reasons.
            return outcome_response(404, [issue("not-found", NOT_FOUND_TEXT)])
        headers = {"WWW-Authenticate": bearer_challenge("invalid_token")} if isinstance(exc, Unauthenticated) else {}
        code = _ISSUE_CODE.get(status, "processing")
        if status == 409 and "already" in exc.message:
            code = "duplicate"
        issues = [issue(code, exc.message)]
        for field, messages in exc.field_errors.items():
            issues.extend(issue("invariant" if status == 422 else code, m, expression=[field]) for m in messages)
        return outcome_response(status, issues, headers)
    raise exc
