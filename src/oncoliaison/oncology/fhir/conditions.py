"""FHIR Condition: primary and secondary cancers and comorbid conditions."""


from __future__ import annotations

from typing import Any

from django.db.models import Q

from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import SearchParam, register

from ..models import (
    SNOMED,
    CancerCondition,
    ConditionCategory,
)
from . import common

# ===================================== Condition ===========================================================


@register
class ConditionMapper(common.CancerRecordMapper):
    resource_type = "Condition"
    model = CancerCondition
    profile = common.CONDITION_PROFILES[ConditionCategory.PRIMARY]
    documentation = ("Primary and secondary cancers (mCODE Primary / Secondary Cancer Condition, with histology, "
                     "laterality and stage summary) and comorbid conditions (US Core), as imported.")
    search_params = (
        *common.patient_params(),
        common.code_param("Condition code: system|code (SNOMED CT, ICD-10-CM) or code."),
        SearchParam("category", "token",
                    "primary-cancer | secondary-cancer | comorbidity (OncoLiaison), or problem-list-item.",
                    lambda _n, v: _condition_category(v), common.SP + "Condition-category"),
        SearchParam("clinical-status", "token", "active, recurrence, relapse, inactive, remission, resolved.",
                    lambda _n, v: Q(clinical_status=params.token(v)[1]), common.SP + "Condition-clinical-status"),
        SearchParam("onset-date", "date", "Date of diagnosis; prefixes eq ne lt gt le ge.",
                    params.date_filter("diagnosed_on"), common.SP + "Condition-onset-date"),
    )

    def to_fhir(self, c: CancerCondition) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Condition",
            "id": str(c.pk),
            "meta": common.meta(c, common.CONDITION_PROFILES.get(c.category, "")),
        }
        ext = []
        if c.histology_code or c.histology_display:
            ext.append(common.ext_concept(common.MCODE + "mcode-histology-morphology-behavior",
                                           common.concept(c.histology_system, c.histology_code, c.histology_display)))
        if c.asserted_on:
            ext.append({"url": common.EXT_ASSERTED_DATE, "valueDateTime": c.asserted_on.isoformat()})
        if ext:
            out["extension"] = ext
        if c.clinical_status:
            out["clinicalStatus"] = {"coding": [codes.coding(common.CS_CONDITION_CLINICAL, c.clinical_status)]}
        if c.verification_status:
            out["verificationStatus"] = {"coding": [codes.coding(common.CS_CONDITION_VERIFICATION, c.verification_status)]}
        out["category"] = [{"coding": [codes.coding(common.CS_CONDITION_CATEGORY, "problem-list-item", "Problem List Item")]}]
        out["code"] = common.concept(c.code_system, c.code, c.display)
        if c.body_site_code or c.body_site_display:
            site = common.concept(c.body_site_system, c.body_site_code, c.body_site_display)
            if lat := common.laterality(c.laterality_code, c.laterality):
                site["extension"] = lat
            out["bodySite"] = [site]
        out["subject"] = common.patient(c)
        if c.diagnosed_on:
            out["onsetDateTime"] = c.diagnosed_on.isoformat()
        if c.abated_on:
            out["abatementDateTime"] = c.abated_on.isoformat()
        if c.stage_group:
            stage: dict[str, Any] = {"summary": common.text(c.stage_group)}
            if c.stage_system_code or c.stage_system_display:
                stage["type"] = common.concept(SNOMED if c.stage_system_code else "", c.stage_system_code,
                                                c.stage_system_display)
            out["stage"] = [stage]
        return out


_CONDITION_CATEGORY = {"primary-cancer": ConditionCategory.PRIMARY, "secondary-cancer": ConditionCategory.SECONDARY,
                       "comorbidity": ConditionCategory.COMORBIDITY}


def _condition_category(value: str) -> Q:
    _system, code = params.token(value)
    if code == "problem-list-item":
        return Q()
    if code in _CONDITION_CATEGORY:
        return Q(category=_CONDITION_CATEGORY[code])
    return params.NOTHING
