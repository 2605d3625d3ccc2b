"""FHIR Questionnaire of symptom instruments (read, search): an instrument version, canonical
``<CODE_BASE>/Questionnaire/<code>`` with ``version``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.fhir import codes
from oncoliaison.fhir.registry import (
    READ,
    SEARCH,
    register,
)
from oncoliaison.instruments.fhir import QuestionnaireMapperBase, questionnaire_search_params
from oncoliaison.instruments.models import InstrumentItem, InstrumentVersion
from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE

from .. import services
from ..models import SymptomQuestionnaire
from .common import (
    CS_RESPONSE,
    EXT_MAX,
    EXT_MIN,
    ID_PREFIX,
    canonical,
)

# --- Questionnaire ---------------------------------------------------------------------------------------


def _item_fhir(item: InstrumentItem) -> dict[str, Any]:
    out: dict[str, Any] = {"linkId": item.link_id, "text": item.text}
    if item.kind == "scale":
        out["type"] = "integer"
        out["extension"] = [{"url": EXT_MIN, "valueInteger": item.min_value},
                            {"url": EXT_MAX, "valueInteger": item.max_value}]
    elif item.kind in ("ordinal", "presence"):
        out["type"] = "choice"
        out["answerOption"] = [{"valueCoding": codes.coding(CS_RESPONSE, str(n), label)}
                               for n, label in enumerate(item.options)]
        out["answerOption"] += [{"valueCoding": codes.coding(CS_RESPONSE, "missing", label)}
                                for label in item.missing_options]
    elif item.kind == "text":
        out["type"] = "string"
    else:
        out["type"] = "text"
    return out


@register
class SymptomQuestionnaireMapper(QuestionnaireMapperBase):
    model = SymptomQuestionnaire
    purpose = services.PURPOSE
    id_prefix = ID_PREFIX
    interactions = (READ, SEARCH)
    documentation = ("Symptom instruments (ESAS-r, PRO-CTCAE) as loaded, with their licence in copyright. "
                     "Canonical URL " + QUESTIONNAIRE_BASE + "/<code>.")
    search_params = questionnaire_search_params("esas-r")

    def check_access(self, actor: Actor, interaction: str) -> None:
        if actor.kind not in {"staff", "system"}:
            raise Forbidden("Questionnaires are read by staff and connected systems.")

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("instrument").prefetch_related("items")

    versioned = False  # never changed in place
    updated_field = ""

    def to_fhir(self, v: InstrumentVersion) -> dict[str, Any]:
        inst = v.instrument
        return {
            "resourceType": "Questionnaire",
            "id": self.fhir_id(v),
            "url": canonical(v),
            "version": v.version,
            "name": inst.code.replace("-", "_").upper(),
            "title": inst.title,
            "status": "active" if v.current else "retired",
            "subjectType": ["Patient"],
            "publisher": inst.publisher,
            "description": f"{inst.citation} Recall: {v.recall}".strip(),
            "copyright": inst.licence,
            "item": [_item_fhir(i) for i in sorted(v.items.all(), key=lambda i: i.order)],
        }
