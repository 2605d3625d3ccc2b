"""``POST /fhir`` with a transaction or batch Bundle: clinical data for the cancer record's import (the Bundle
handler no other domain claims)."""


from __future__ import annotations

from typing import Any

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import registry

from ..importing import bundle_import

# --- import (POST /fhir) ----------------------------------------------------------------------------------


def import_source_for(actor: Actor) -> str:
    """The namespace that makes re-sent resources "the same": per API client, else per organisation."""
    if actor.is_system and actor.client_id:
        return f"urn:oncoliaison:client:{actor.client_id}"
    return f"urn:oncoliaison:organization:{actor.primary_organization_id}"


@registry.register_bundle_handler()  # every transaction or batch no other domain claims: clinical data
def bundle_post(actor: Actor, bundle: dict[str, Any], *, organization_id: int | None = None) -> tuple[int, dict[str, Any]]:
    """(HTTP status, FHIR JSON) for ``POST [base]`` of a transaction or batch Bundle.

    Raises the domain's typed errors (Forbidden, ValidationFailed) for the FHIR view to map.
    """
    result = bundle_import(actor=actor, bundle=bundle, source=import_source_for(actor),
                           organization_id=organization_id, channel="fhir", refuse_unheld=True)
    if result.bundle_type == "transaction" and not result.stored:
        return 400, result.to_operation_outcome()
    return 200, result.to_response_bundle()
