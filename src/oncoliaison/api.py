"""The JSON API (django-ninja): one NinjaAPI, routers contributed by each domain's api.py.

Authentication: a bearer token (systems, limited by SMART v2 scopes) or the signed-in session (CSRF on
unsafe methods) — see core.apiauth.  Errors: ``{"error", "message", "fields"}`` with the status of the
domain error.  OpenAPI at /api/openapi.json, Swagger UI at /api/docs (served from django-ninja's own
static files, so it runs under the strict Content-Security-Policy).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Router
from ninja.operation import Operation

from oncoliaison.accounts.api import router as accounts_router
from oncoliaison.assessments.api import router as assessments_router
from oncoliaison.core.api import router as audit_router
from oncoliaison.core.apiauth import API_AUTH, install_error_handlers
from oncoliaison.core.errors import NotFound
from oncoliaison.messaging.api import router as messaging_router
from oncoliaison.monitoring.api import router as monitoring_router
from oncoliaison.organisations.api import router as organisations_router
from oncoliaison.patients.api import router as patients_router
from oncoliaison.referrals.api import router as referrals_router


class OncoLiaisonAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        """Operation ids are the adapter functions' names (patient_list, consent_revoke…): stable, short,
        and what generated clients call their methods."""
        return operation.view_func.__name__


api = OncoLiaisonAPI(
    title="OncoLiaison API",
    version="1",
    description=(
        "Care coordination for a Cancer Liaison Program.  Authenticate with a bearer token from the "
        "OAuth 2.0 client-credentials grant (scopes: SMART v2 system scopes such as system/Patient.rs) or "
        "with a signed-in session (send X-CSRFToken on unsafe methods).  A record you may not see answers "
        "404, exactly like one that does not exist; a role or scope you lack answers 403."
    ),
    urls_namespace="api",
    auth=API_AUTH,
)
install_error_handlers(api)

api.add_router("/", accounts_router)
api.add_router("/", organisations_router)
api.add_router("/", patients_router)
api.add_router("/", referrals_router)
api.add_router("/", monitoring_router)
api.add_router("/", assessments_router)
api.add_router("/", messaging_router)
api.add_router("/", audit_router)


_unknown = Router()


@_unknown.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def unknown_path(request: HttpRequest, rest: str) -> HttpResponse:
    """Any other path under /api/ answers in the API's error shape, not with an HTML page."""
    raise NotFound()


api.add_router("/", _unknown)  # last: after every real operation
