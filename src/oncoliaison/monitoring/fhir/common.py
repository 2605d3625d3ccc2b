"""What the symptom-monitoring FHIR mappers share: code systems, extensions, ids and references."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden, NotFound
from oncoliaison.core.ids import parse_id
from oncoliaison.fhir import codes, params
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import InstrumentVersion

from .. import services

CS_RESPONSE = f"{codes.CODE_BASE}/CodeSystem/proctcae-response"
CS_SCORE = f"{codes.CODE_BASE}/CodeSystem/symptom-score"
CS_ALERT = f"{codes.CODE_BASE}/CodeSystem/symptom-alert"
EXT_DEADLINE = f"{codes.CODE_BASE}/StructureDefinition/response-deadline"
EXT_WORKFLOW = f"{codes.CODE_BASE}/StructureDefinition/alert-workflow-status"
EXT_MIN = "http://hl7.org/fhir/StructureDefinition/minValue"
EXT_MAX = "http://hl7.org/fhir/StructureDefinition/maxValue"
CS_OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
CS_FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CS_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
SP = "http://hl7.org/fhir/SearchParameter/"
BAND_INTERPRETATION = {"severe": ("HH", "Critical high"), "moderate": ("H", "High"), "mild": ("N", "Normal"),
                        "none": ("N", "Normal")}


def canonical(version: InstrumentVersion) -> str:
    return instruments.questionnaire_url(version.instrument)


# Questionnaire, QuestionnaireResponse and Observation are also served by needs assessments; the registry
# composes the mappers of one type, and ours carry ids "symptom-<pk>".
ID_PREFIX = "symptom"


def fid(pk: object) -> str:
    return f"{ID_PREFIX}-{pk}"


def pk_from(fhir_id: str) -> int | None:
    if not fhir_id.startswith(f"{ID_PREFIX}-"):
        return None
    raw = fhir_id[len(ID_PREFIX) + 1:]
    return parse_id(raw)


def prefixed_reference(field: str, resource_type: str) -> Any:
    """Search on a reference to one of our prefixed resources: ``Type/symptom-12`` or ``symptom-12``."""

    def apply(name: str, value: str) -> Q:
        parts = value.rstrip("/").split("/")
        key = pk_from(parts[-1])
        if len(parts) > 1 and parts[-2] != resource_type:
            raise params.bad_value(name, value, f"Use a reference to {resource_type}.")
        return Q(**{field: key}) if key is not None else Q(pk__in=[])

    return apply


class SymptomIds:
    """Prefixed ids (also understood by registries without composition)."""

    id_prefix = ID_PREFIX

    def fhir_id(self, obj: Any) -> str:
        return fid(obj.pk)

    def pk_of(self, fhir_id: str) -> int | None:
        return pk_from(fhir_id)

    def read(self, actor: Actor, pk: str) -> Any:
        key = pk_from(pk)
        if key is None:
            raise NotFound()
        obj = self.with_related(self.queryset_for(actor)).filter(pk=key).first()  # type: ignore[attr-defined]  # a mixin: the mapper it joins has these
        if obj is None:
            raise NotFound()
        return obj


def ours(resource: dict[str, Any]) -> bool:
    """Does a QuestionnaireResponse answer one of the symptom instruments?"""
    return instruments.is_our_questionnaire(str(resource.get("questionnaire") or ""), purpose=services.PURPOSE)


def staff_or_system(actor: Actor, what: str) -> None:
    if actor.kind not in {"staff", "system"} or not actor.clinical_organization_ids:
        raise Forbidden(f"Your role does not give access to {what}.")
