"""``POST [base]``: which domain processes a transaction or batch Bundle.

A batch made only of QuestionnaireResponses is a connected app's symptom reports: it goes to symptom
monitoring (one entry answered per report, scores and alerts included).  Every other transaction or batch is
clinical data from an EHR or partner hospital and goes to the mCODE import (patient matching, review queue,
all-or-nothing for transactions).
"""

from __future__ import annotations

from typing import Any

from oncoliaison.core.actor import Actor

from . import registry


def is_symptom_report_batch(bundle: dict[str, Any]) -> bool:
    entries = [e for e in bundle.get("entry") or [] if isinstance(e, dict)]
    return (
        bundle.get("type") == "batch"
        and bool(entries)
        and all((e.get("resource") or {}).get("resourceType") == "QuestionnaireResponse" for e in entries)
    )


@registry.register_bundle_handler
def dispatch_bundle(actor: Actor, bundle: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    if is_symptom_report_batch(bundle):
        from oncoliaison.monitoring.fhir import batch_response

        return 200, batch_response(actor, bundle)
    from oncoliaison.oncology.fhir import bundle_post

    return bundle_post(actor, bundle)
