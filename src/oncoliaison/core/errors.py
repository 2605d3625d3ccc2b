"""Typed errors raised by services and selectors; each door (page, JSON API, FHIR) maps them."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field_errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field_errors = field_errors or {}


class BadRequest(DomainError):
    """The request is malformed in a way no field schema states (400)."""


class Unauthenticated(DomainError):
    status = 401
    code = "login"


class Forbidden(DomainError):
    """The actor is known but lacks the role or scope for this kind of action.

    Never raised for a specific patient's record the actor may not see: that is NotFound, so that
    existence is not disclosed.
    """

    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not-found"

    def __init__(self, message: str = "Not found.", *, audited: bool = False) -> None:
        super().__init__(message)
        # True when the selector that refused has already written the denied audit row: no door writes a second.
        self.audited = audited


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "conflict"


class PreconditionRequired(DomainError):
    """An update that names no version (RFC 6585: the server requires the request to be conditional)."""

    status = 428
    code = "precondition-required"


class ValidationFailed(DomainError):
    status = 422
    code = "processing"
