"""The cancer record's door on the FHIR API: importing transaction and batch Bundles (POST /fhir).

The FHIR app routes ``POST [base]`` with a Bundle here; this module only translates: the actor's sending
system becomes the import ``source``, the ImportResult becomes a transaction-response / batch-response
Bundle, or — for a transaction that was refused — an OperationOutcome naming each failing entry.
Read and search mappers for the cancer record's resources are not registered yet (see
docs/mcode-coverage.md).
"""

from __future__ import annotations

from typing import Any

from oncoliaison.core.actor import Actor

from .importing import bundle_import


def import_source_for(actor: Actor) -> str:
    """The namespace that makes re-sent resources "the same": per API client, else per organisation."""
    if actor.is_system and actor.client_id:
        return f"urn:oncoliaison:client:{actor.client_id}"
    return f"urn:oncoliaison:organization:{actor.primary_organization_id}"


def bundle_post(actor: Actor, bundle: dict[str, Any], *, organization_id: int | None = None) -> tuple[int, dict]:
    """(HTTP status, FHIR JSON) for ``POST [base]`` of a transaction or batch Bundle.

    Raises the domain's typed errors (Forbidden, ValidationFailed) for the FHIR view to map.
    """
    result = bundle_import(actor=actor, bundle=bundle, source=import_source_for(actor),
                           organization_id=organization_id, channel="fhir")
    if result.bundle_type == "transaction" and not result.stored:
        return 400, result.to_operation_outcome()
    return 200, result.to_response_bundle()
