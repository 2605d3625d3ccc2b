"""JSON shapes of needs assessments (e.g. the NCCN Distress Thermometer), their scores and the referrals
the rules propose."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from oncoliaison.core.schemas import Bool, DateTime, Id, Int

from .models import AssessmentStatus, FilledBy, ReferralService, SuggestionStatus


class AssessmentInstrumentOut(Schema):
    code: str
    title: str
    publisher: str
    citation: str
    licence: str
    loinc_code: str
    version: str
    definition: dict[str, Any] = Field(..., description="Items, answer options and codes, as published")


class AssessmentIn(Schema):
    instrument: str = Field(..., description="Instrument code, e.g. nccn-dt", examples=["nccn-dt"])
    answers: dict[str, list[str | Int]] = Field(
        ..., description="Item link id → the answers (option codes, or one integer)",
        examples=[{"distress": [6], "problems-practical": ["finances"]}],
    )
    started_at: DateTime | None = None
    authored_at: DateTime | None = Field(default=None, description="When completed; now if left out")
    filled_by: FilledBy | None = Field(default=None, description="Staff only: who gave the answers")
    note: str = Field("", max_length=2000)


class AssessmentAnswerOut(Schema):
    link_id: str
    value_code: str
    value_integer: Int | None
    display: str


class AssessmentScoreOut(Schema):
    code: str
    loinc_code: str
    display: str
    value_integer: Int | None
    value_text: str
    interpretation: str = Field(..., description="POS, NEG or empty")
    reasons: list[str]


class SuggestionOut(Schema):
    id: Id
    service: ReferralService
    reasons: list[str]
    triggers: list[str]
    needs: list[str]
    urgent: Bool
    status: SuggestionStatus
    decided_by_id: Id | None
    decided_at: DateTime | None
    decision_note: str


class AssessmentSummaryOut(Schema):
    id: Id
    patient_id: Id
    organization: str
    instrument: str
    instrument_version: str
    status: AssessmentStatus
    filled_by: FilledBy
    author_id: Id | None
    positive: Bool
    started_at: DateTime
    authored_at: DateTime
    scores: list[AssessmentScoreOut]
    version: Int

    @staticmethod
    def resolve_organization(obj: Any) -> str:
        return str(obj.organization.slug)

    @staticmethod
    def resolve_instrument(obj: Any) -> str:
        return str(obj.instrument_version.instrument.code)

    @staticmethod
    def resolve_instrument_version(obj: Any) -> str:
        return str(obj.instrument_version.version)

    @staticmethod
    def resolve_scores(obj: Any) -> list[Any]:
        return list(obj.scores.all())


class AssessmentOut(AssessmentSummaryOut):
    note: str
    answers: list[AssessmentAnswerOut]
    suggestions: list[SuggestionOut]

    @staticmethod
    def resolve_answers(obj: Any) -> list[Any]:
        return list(obj.answers.all())

    @staticmethod
    def resolve_suggestions(obj: Any) -> list[Any]:
        return list(obj.suggestions.all())


class EnteredInErrorIn(Schema):
    reason: str = Field(..., min_length=1, pattern=r"\S", max_length=500)


class SuggestionDecisionIn(Schema):
    accept: Bool
    note: str = Field("", max_length=500, description="Required to reject")
