"""What every domain's FHIR Questionnaire mapper shares: ids and the canonical-URL search.

Each domain serves its own instruments as Questionnaires (its mapper, its rendering); the ids are
``<domain prefix>-<n>`` with ``n`` the version's ``number``, counted per purpose, so that ids stayed the same
when the versions of both domains moved into one table.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db.models import Q, QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound
from oncoliaison.core.ids import parse_id
from oncoliaison.fhir import params
from oncoliaison.fhir.registry import ID_PARAM, ResourceMapper, SearchParam

from .models import InstrumentVersion

_SP = "http://hl7.org/fhir/SearchParameter/"


def _code_in_canonical(_name: str, value: str) -> Q:
    return Q(instrument__code=value.split("|")[0].rstrip("/").split("/")[-1])


def questionnaire_search_params(example_code: str) -> tuple[SearchParam, ...]:
    return (
        SearchParam("url", "uri", "Canonical URL of the instrument.", _code_in_canonical, _SP + "Questionnaire-url"),
        SearchParam("name", "string", f"Instrument code, e.g. {example_code}.",
                    params.string_filter(["instrument__code"]), _SP + "Questionnaire-name"),
    )


class QuestionnaireMapperBase(ResourceMapper):
    """A domain's Questionnaire mapper: the versions of one purpose, with ids ``<id_prefix>-<number>``."""

    resource_type = "Questionnaire"
    purpose: ClassVar[str] = ""

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return self.model._default_manager.filter(instrument__purpose=self.purpose)

    def fhir_id(self, obj: InstrumentVersion) -> str:
        return f"{self.id_prefix}-{obj.number}"

    def pk_of(self, fhir_id: str) -> int | None:
        """The version's ``number`` (not its primary key) behind one of this mapper's ids."""
        if not fhir_id.startswith(f"{self.id_prefix}-"):
            return None
        return parse_id(fhir_id[len(self.id_prefix) + 1:])

    def read(self, actor: Actor, pk: str) -> Any:
        number = self.pk_of(pk)
        obj = None if number is None else self.with_related(self.queryset_for(actor)).filter(number=number).first()
        if obj is None:
            raise NotFound()
        return obj

    def all_search_params(self) -> dict[str, SearchParam]:
        def own_ids(name: str, value: str) -> Q:
            number = self.pk_of(value)
            return Q(number=number) if number is not None else params.NOTHING

        id_param = SearchParam("_id", "token", ID_PARAM.documentation, own_ids, ID_PARAM.definition)
        return {p.name: p for p in (id_param, *self.search_params)}
