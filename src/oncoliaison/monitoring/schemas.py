"""JSON shapes of symptom monitoring: instruments, reports with their scores, and alerts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field, Schema

from .models import ActionKind, AlertStatus, ReporterKind, ReportSource


class InstrumentItemOut(Schema):
    link_id: str
    order: int
    text: str
    kind: str = Field(..., description="scale, ordinal, presence, text or free_text")
    symptom: str
    symptom_label: str
    attribute: str
    term: int | None
    min_value: int | None
    max_value: int | None
    options: list[str] = Field(..., description="Response option labels, coded 0…n-1")
    missing_options: list[str]
    anchor_low: str
    anchor_high: str


class InstrumentOut(Schema):
    code: str
    title: str
    publisher: str
    citation: str
    licence_text: str
    version: str
    recall: str
    items: list[InstrumentItemOut]


class ScheduleOut(Schema):
    id: int
    instrument: str = Field(..., description="Instrument code")
    care_plan_label: str
    proctcae_terms: list[int]
    frequency_days: int
    starts_on: dt.date
    ends_on: dt.date | None
    next_due_at: dt.datetime
    active: bool

    @staticmethod
    def resolve_instrument(obj: Any) -> str:
        return str(obj.instrument.code)


class ReportIn(Schema):
    instrument: str = Field(..., description="Instrument code, e.g. esas-r", examples=["esas-r"])
    answers: dict[str, int | str | None] = Field(
        ..., description="Item link id → coded answer (an integer; null = not answered) or text"
    )
    authored_at: dt.datetime | None = Field(default=None, description="When answered (with time zone); now if left out")
    source_id: str = Field(
        "", max_length=200, description="Your id for this report: sending it again returns the stored report"
    )


class SymptomScoreOut(Schema):
    kind: str = Field(..., description="item, scale, composite or presence")
    code: str
    label: str
    value: int | None
    max_value: int
    band: str = Field(..., description="none, mild, moderate or severe")
    note: str


class SymptomAnswerOut(Schema):
    link_id: str
    value: int | None
    text: str


class AlertBriefOut(Schema):
    id: int
    severity: str
    status: AlertStatus
    summary: str
    deadline: dt.datetime


class ReportOut(Schema):
    id: int
    patient_id: int
    instrument: str
    instrument_version: str
    source: ReportSource
    reporter_kind: ReporterKind
    authored_at: dt.datetime
    received_at: dt.datetime
    highest_severity: str
    answers: list[SymptomAnswerOut]
    scores: list[SymptomScoreOut]
    alert: AlertBriefOut | None

    @staticmethod
    def resolve_instrument(obj: Any) -> str:
        return str(obj.version.instrument.code)

    @staticmethod
    def resolve_instrument_version(obj: Any) -> str:
        return str(obj.version.version)

    @staticmethod
    def resolve_answers(obj: Any) -> list[Any]:
        return list(obj.answers.all())

    @staticmethod
    def resolve_scores(obj: Any) -> list[Any]:
        return list(obj.scores.all())

    @staticmethod
    def resolve_alert(obj: Any) -> Any:
        return getattr(obj, "alert", None)


class SelfCareOut(Schema):
    symptom: str
    advice: str


class GuidanceOut(Schema):
    """What to tell the person now, from the program's rules."""

    severity: str = Field(..., description="Empty when the report raised no alert")
    headline: str
    call_now: bool
    emergency: str
    when_to_call: str
    self_care: list[SelfCareOut]
    deadline: dt.datetime | None = Field(default=None, description="When the care team will have responded by")


class SubmitOut(Schema):
    created: bool = Field(..., description="False when this source_id was already received (nothing changed)")
    report: ReportOut
    guidance: GuidanceOut


class AlertActionOut(Schema):
    kind: ActionKind
    note: str
    by_id: int | None
    at: dt.datetime


class AlertOut(Schema):
    id: int
    patient_id: int
    patient_name: str
    severity: str
    status: AlertStatus
    summary: str
    reasons: list[dict[str, str]] = Field(..., description="[{rule, symptom, label, severity, detail}]")
    report_id: int
    created_at: dt.datetime
    deadline: dt.datetime
    assigned_to_id: int | None
    acknowledged_at: dt.datetime | None
    acknowledged_by_id: int | None
    escalated_at: dt.datetime | None
    escalated_to_id: int | None
    resolved_at: dt.datetime | None
    resolved_by_id: int | None
    actions: list[AlertActionOut]
    version: int

    @staticmethod
    def resolve_patient_name(obj: Any) -> str:
        return str(obj.patient.display_name)

    @staticmethod
    def resolve_actions(obj: Any) -> list[Any]:
        return list(obj.actions.all())


class WorklistFilter(Schema):
    mine: bool = Field(False, description="Only alerts assigned to me")
    include_resolved: bool = False


class AlertVersionIn(Schema):
    version: int | None = Field(default=None, description="The version you read; or send If-Match")


class AlertActionIn(AlertVersionIn):
    kind: ActionKind = Field(..., description="called_patient, advised, escalated_physician, sent_emergency or note")
    note: str = Field("", max_length=2000)


class AlertResolveIn(AlertVersionIn):
    note: str = Field("", max_length=2000)


class HistoryFilter(Schema):
    instrument: str | None = Field(default=None, description="Instrument code")
    since: dt.datetime | None = None
    limit: int = Field(50, ge=1, le=100)
