"""ServiceRequest: a recommendation of the board (read, search; in the patient compartment).

Referrals serve ServiceRequest with plain ids; a recommendation's id is ``tbr-<id>``.  R4 ServiceRequest.basedOn
takes only a CarePlan, ServiceRequest or MedicationRequest, so the board's review it comes from (a Composition)
is in ``supportingInfo``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, SearchParam, register

from .. import selectors
from ..models import Concordance, Recommendation, RecommendationKind
from .common import (
    CS_RECOMMENDATION_KIND,
    RECOMMENDATION_PREFIX,
    SNOMED_FOR_KIND,
    SP,
    TUMOR_BOARD_NOTE,
    PatientLinked,
    patient_params,
    practitioner,
)

# Request status from concordance: what the record shows was done completes the request; what was not done
# revokes it; until then (or when the record cannot tell) it is active.
STATUS_OF = {Concordance.PENDING: "active", Concordance.NOT_APPLICABLE: "active",
             Concordance.FOLLOWED: "completed", Concordance.NOT_FOLLOWED: "revoked"}


def _status_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system not in (None, "", "http://hl7.org/fhir/request-status"):
        return params.NOTHING
    matching = [ours for ours, theirs in STATUS_OF.items() if theirs == code]
    if matching:
        return Q(concordance__in=matching)
    if code in ("draft", "on-hold", "entered-in-error", "unknown"):
        return params.NOTHING
    raise params.bad_value(name, value, "Use a request status: active, completed or revoked.")


def _category_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system in (None, codes.CS_LOINC) and code == TUMOR_BOARD_NOTE["code"]:
        return Q()
    if system in (None, CS_RECOMMENDATION_KIND) and code in RecommendationKind.values:
        return Q(kind=code)
    return params.NOTHING


@register
class RecommendationServiceRequestMapper(PatientLinked):
    resource_type = "ServiceRequest"
    model = Recommendation
    id_prefix = RECOMMENDATION_PREFIX
    interactions = (READ, SEARCH)
    documentation = (
        "Tumor-board recommendations (ids tbr-<id>): intent plan, category LOINC 85232-7 and the kind, code "
        "SNOMED CT where one is published, performer the responsible clinician, occurrence the due date, "
        "supportingInfo the board's review (Composition)."
    )
    search_params = (
        *patient_params("ServiceRequest"),
        SearchParam("status", "token", "active, completed (followed) or revoked (not followed).", _status_q,
                    SP + "ServiceRequest-status"),
        SearchParam("category", "token", f"{codes.CS_LOINC}|85232-7 (every board recommendation) or a kind in "
                    f"{CS_RECOMMENDATION_KIND}.", _category_q, SP + "ServiceRequest-category"),
        SearchParam("requester", "reference", "Who recorded the recommendation.",
                    params.reference_filter("created_by_id", "Practitioner"), SP + "ServiceRequest-requester"),
        SearchParam("authored", "date", "When it was recorded; prefixes eq, ne, lt, gt, le, ge.",
                    params.datetime_filter("created_at"), SP + "ServiceRequest-authored"),
        SearchParam("occurrence", "date", "The due date; prefixes eq, ne, lt, gt, le, ge.",
                    params.date_filter("due_date"), SP + "ServiceRequest-occurrence"),
    )

    def queryset_for(self, actor: Actor) -> QuerySet[Recommendation]:
        return selectors.recommendation_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("patient", "responsible", "created_by")

    def to_fhir(self, r: Recommendation) -> dict[str, Any]:
        kind = RecommendationKind(r.kind)
        code: dict[str, Any] = {"text": r.description}
        if kind in SNOMED_FOR_KIND:
            code["coding"] = [codes.coding(codes.CS_SNOMED, *SNOMED_FOR_KIND[kind])]
        out: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "id": self.fhir_id(r),
            "meta": codes.meta(1, r.updated_at, synthetic=r.patient.synthetic),
            "status": STATUS_OF[Concordance(r.concordance)],
            "intent": "plan",
            "category": [{"coding": [TUMOR_BOARD_NOTE]},
                         {"coding": [codes.coding(CS_RECOMMENDATION_KIND, kind.value, kind.label)]}],
            "code": code,
            "subject": codes.ref("Patient", r.patient_id),
            "authoredOn": codes.instant(r.created_at),
            "supportingInfo": [codes.ref("Composition", r.case_id)],
        }
        if r.due_date:
            out["occurrenceDateTime"] = r.due_date.isoformat()
        if r.created_by is not None:
            out["requester"] = practitioner(r.created_by)
        if r.responsible is not None:
            out["performer"] = [practitioner(r.responsible)]
        notes = []
        if r.dissent_reason:
            notes.append({"text": f"Dissent recorded: {r.dissent_reason}"})
        if r.concordance_reason:
            notes.append({"text": f"Concordance ({r.get_concordance_display()}): {r.concordance_reason}"})
        if notes:
            out["note"] = notes
        return out
