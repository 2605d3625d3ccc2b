"""The JSON API (django-ninja): one NinjaAPI, routers contributed by each domain's api.py.

Authentication: a bearer token (systems, limited by SMART v2 scopes) or the signed-in session (CSRF on
unsafe methods) — see apiauth.py.  Errors: ``{"error", "message", "fields"}`` with the status of the
domain error.  OpenAPI at /api/openapi.json, Swagger UI at /api/docs (served from django-ninja's own
static files, so it runs under the strict Content-Security-Policy).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.types import DictStrAny

from oncoliaison.accounts.api import router as accounts_router
from oncoliaison.adherence.api import router as adherence_router
from oncoliaison.apiauth import API_AUTH, install_error_handlers
from oncoliaison.assessments.api import router as assessments_router
from oncoliaison.auditlog.api import router as audit_router
from oncoliaison.core import ids as _ids  # noqa: F401  (registers the {id:…} path converter)
from oncoliaison.core.errors import NotFound
from oncoliaison.core.idempotency import UNSAFE_METHODS
from oncoliaison.core.idempotency import install_api as install_idempotency
from oncoliaison.messaging.api import router as messaging_router
from oncoliaison.monitoring.api import router as monitoring_router
from oncoliaison.organisations.api import router as organisations_router
from oncoliaison.patients.api import router as patients_router
from oncoliaison.referrals.api import router as referrals_router
from oncoliaison.tumorboards.api import router as tumorboards_router


class ObjectBodyParser(Parser):
    """Every operation's JSON body is an object: a list, string or number is refused with a 400 here, not
    read as "no fields sent" (which would turn ``[null]`` into an empty search)."""

    def parse_body(self, request: HttpRequest) -> DictStrAny:
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("The request body must be a JSON object.")  # ninja answers 400
        return data


class OncoLiaisonAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Operation ids are the adapter functions' names (patient_list, consent_revoke…): stable, short,
        and what generated clients call their methods."""
        return operation.view_func.__name__

    def get_openapi_schema(self, *args: Any, **kwargs: Any) -> Any:
        """Every unsafe operation documents the ``Idempotency-Key`` header it honours (core.idempotency)."""
        schema = super().get_openapi_schema(*args, **kwargs)
        for methods in schema.get("paths", {}).values():
            for method, operation in methods.items():
                if method.upper() in UNSAFE_METHODS:
                    operation.setdefault("parameters", []).append(IDEMPOTENCY_KEY_PARAMETER)
        return schema


IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 8, "maxLength": 128, "pattern": "^[A-Za-z0-9_\\-:.]{8,128}$"},
    "description": (
        "A key you choose once for this request (e.g. a UUID).  Sending the same request again with the same "
        "key (a retry after a timeout) answers the original status, Location and body with "
        "`Idempotent-Replayed: true` and changes nothing; the same key with a different request is refused "
        "with 422.  Keys belong to the client (or signed-in person) that sent them and are kept 24 hours.  A "
        "request that failed (4xx/5xx) keeps no key, so it may be corrected and retried with the same key."
    ),
}


api = OncoLiaisonAPI(
    title="OncoLiaison API",
    version="1",
    description=(
        "Care coordination for a Cancer Liaison Program.  Authenticate with a bearer token from the "
        "OAuth 2.0 client-credentials grant (scopes: SMART v2 system scopes such as system/Patient.rs) or "
        "with a signed-in session (send X-CSRFToken on unsafe methods).  Every POST, PUT, PATCH and DELETE "
        "honours an Idempotency-Key header: a retry with the same key and body changes nothing.  A record "
        "you may not see answers 404, exactly like one that does not exist; a role or scope you lack "
        "answers 403."
    ),
    urls_namespace="api",
    auth=API_AUTH,
    parser=ObjectBodyParser(),
)
install_error_handlers(api)
install_idempotency(api)  # Idempotency-Key on every unsafe operation

api.add_router("/", accounts_router)
api.add_router("/", organisations_router)
api.add_router("/", patients_router)
api.add_router("/", referrals_router)
api.add_router("/", monitoring_router)
api.add_router("/", assessments_router)
api.add_router("/", messaging_router)
api.add_router("/", audit_router)
api.add_router("/", tumorboards_router)
api.add_router("/", adherence_router)


_unknown = Router()


@_unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/ answers in the API's error shape, not with an HTML page."""
    raise NotFound()


api.add_router("/", _unknown)  # last: after every real operation
