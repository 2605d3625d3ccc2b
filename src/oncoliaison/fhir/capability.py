"""The CapabilityStatement at /fhir/metadata, built from the registry so it states exactly what works."""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from . import registry

# Change this date whenever what the server supports changes (the snapshot test will remind you).
CAPABILITY_DATE = "2026-12-04"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
BULK = "http://hl7.org/fhir/uv/bulkdata/"

# Operations (bulk.py, everything.py).  A Group is an organisation's patient list: Group/[id]/$export with the
# Organization id exports that organisation's patients the client may see (its own, or shared by consent).
SYSTEM_OPERATIONS = [
    {"name": "export", "definition": f"{BULK}OperationDefinition/export",
     "documentation": "Bulk Data export of every patient the client may see (Prefer: respond-async; _type, "
                      "_since). Group/[id]/$export (id = an Organization id) exports that organisation's "
                      "patients the client may see: its own, or shared with it by an active data-sharing consent."},
]
TYPE_OPERATIONS = {
    "Patient": [
        {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
         "documentation": "The patient (mCODE Cancer Patient) and their cancer record; _type and _since."},
        {"name": "export", "definition": f"{BULK}OperationDefinition/patient-export",
         "documentation": "Bulk Data export of all patients the client may see."},
    ],
}


def _software_version() -> str:
    try:
        return version("oncoliaison")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without metadata
        return "0"


def _resource(mapper: registry.ResourceMapper) -> dict[str, Any]:
    out: dict[str, Any] = {"type": mapper.resource_type}
    if mapper.profile:
        out["profile"] = mapper.profile
    if mapper.documentation:
        out["documentation"] = mapper.documentation
    out["interaction"] = [{"code": code} for code in mapper.interactions]
    out["versioning"] = "versioned-update" if registry.UPDATE in mapper.interactions else "versioned"
    out["readHistory"] = False
    if registry.UPDATE in mapper.interactions:
        out["updateCreate"] = False
    if registry.CREATE in mapper.interactions:
        out["conditionalCreate"] = False
    if registry.UPDATE in mapper.interactions:
        out["conditionalUpdate"] = False
    out["conditionalDelete"] = "not-supported"
    params = []
    for p in mapper.all_search_params().values():
        entry = {"name": p.name, "type": p.type, "documentation": p.documentation}
        if p.definition:
            entry["definition"] = p.definition
        params.append(entry)
    out["searchParam"] = params
    if mapper.resource_type in TYPE_OPERATIONS:
        out["operation"] = TYPE_OPERATIONS[mapper.resource_type]
    return out


@lru_cache(maxsize=8)
def _statement(base: str) -> dict[str, Any]:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": CAPABILITY_DATE,
        "publisher": "OncoLiaison",
        "kind": "instance",
        "instantiates": [f"{BULK}CapabilityStatement/bulk-data"],
        "software": {"name": "OncoLiaison", "version": _software_version()},
        "implementation": {"description": "OncoLiaison FHIR R4 server (Cancer Liaison Program)", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": (
                    "Search results are paged with the Bundle's next link; _count is capped by the server; "
                    "unknown search parameters are refused (400) unless the request sends "
                    "'Prefer: handling=lenient'. Updates honour If-Match with the version ETag (412 when stale)."
                ),
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "OAuth 2.0 client credentials with SMART v2 system scopes",
                        }
                    ],
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [{"url": "token", "valueUri": f"{base}/auth/token"},
                                          {"url": "revoke", "valueUri": f"{base}/auth/revoke"}],
                        }
                    ],
                    "description": (
                        "Send 'Authorization: Bearer <access token>' obtained from the token endpoint "
                        "(grant_type=client_credentials; client_secret_basic or client_secret_post). "
                        "Discovery: .well-known/smart-configuration."
                    ),
                },
                "resource": [_resource(m) for m in registry.mappers()],
                "operation": SYSTEM_OPERATIONS,
                **({"interaction": [{"code": "transaction"}, {"code": "batch"}]}
                   if registry.has_bundle_handlers() else {}),
            }
        ],
    }


def capability_statement(base: str) -> dict[str, Any]:
    return _statement(base)
