"""JSON shapes of symptom monitoring: instruments, reports with their scores, and alerts."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema

from oncoliaison.core.schemas import Bool, Date, DateTime, Id, Int

from .models import ActionKind, AlertStatus, ReporterKind, ReportSource


class InstrumentItemOut(Schema):
    link_id: str
    order: Int
    text: str = Field(..., description="The question as the publisher prints it (PRO-CTCAE: NCI's item wording)")
    short_label: str = Field(..., description="Short name for staff views and charts, e.g. 'Pain Frequency'")
    kind: str = Field(..., description="scale, ordinal, presence, text or free_text")
    symptom: str
    symptom_label: str
    attribute: str
    term: Int | None
    min_value: Int | None
    max_value: Int | None
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
    id: Id
    instrument: str = Field(..., description="Instrument code")
    care_plan_label: str
    proctcae_terms: list[int]
    frequency_days: Int
    starts_on: Date
    ends_on: Date | None
    next_due_at: DateTime
    active: Bool

    @staticmethod
    def resolve_instrument(obj: Any) -> str:
        return str(obj.instrument.code)


class ReportIn(Schema):
    instrument: str = Field(..., min_length=1, max_length=64, description="Instrument code, e.g. esas-r",
                            examples=["esas-r"])
    answers: dict[str, int | str | None] = Field(
        ..., min_length=1, description="Item link id → coded answer (an integer; null = not answered) or text"
    )
    authored_at: DateTime | None = Field(default=None, description="When answered (with time zone); now if left out")
    source_id: str = Field(
        "", max_length=200, description="Your id for this report: sending it again returns the stored report"
    )


class SymptomScoreOut(Schema):
    kind: str = Field(..., description="item, scale, composite or presence")
    code: str
    label: str
    value: Int | None
    max_value: Int
    band: str = Field(..., description="none, mild, moderate or severe")
    note: str


class SymptomAnswerOut(Schema):
    link_id: str
    value: Int | None
    text: str


class AlertBriefOut(Schema):
    id: Id
    severity: str
    status: AlertStatus
    summary: str
    deadline: DateTime


class ReportOut(Schema):
    id: Id
    patient_id: Id
    instrument: str
    instrument_version: str
    source: ReportSource
    reporter_kind: ReporterKind
    authored_at: DateTime
    received_at: DateTime
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


class CallOut(Schema):
    """The numbers the person is told to call (their care team's, else their program's)."""

    urgent_phone: str = Field(..., description="24-hour line; empty when none is configured (then 911 / 988)")
    urgent_tel: str = Field(..., description="The urgent line as an RFC 3966 tel: URI")
    office_phone: str
    office_tel: str
    office_hours: str = Field(..., description="e.g. Monday to Friday, 08:00 to 17:00 (in the request's language)")


class GuidanceOut(Schema):
    """What to tell the person now, from the program's rules."""

    severity: str = Field(..., description="Empty when the report raised no alert")
    headline: str
    call_now: Bool
    emergency: str
    when_to_call: str
    self_care: list[SelfCareOut]
    deadline: DateTime | None = Field(default=None, description="When the care team will have responded by")
    call: CallOut


class SubmitOut(Schema):
    created: Bool = Field(..., description="False when this source_id was already received (nothing changed)")
    report: ReportOut
    guidance: GuidanceOut


class AlertActionOut(Schema):
    kind: ActionKind
    note: str
    by_id: Id | None
    at: DateTime


class AlertOut(Schema):
    id: Id
    patient_id: Id
    patient_name: str
    severity: str
    status: AlertStatus
    summary: str
    reasons: list[dict[str, str]] = Field(..., description="[{rule, symptom, label, severity, detail}]")
    report_id: Id
    created_at: DateTime
    deadline: DateTime
    assigned_to_id: Id | None
    acknowledged_at: DateTime | None
    acknowledged_by_id: Id | None
    escalated_at: DateTime | None
    escalated_to_id: Id | None
    resolved_at: DateTime | None
    resolved_by_id: Id | None
    actions: list[AlertActionOut]
    version: Int

    @staticmethod
    def resolve_patient_name(obj: Any) -> str:
        return str(obj.patient.display_name)

    @staticmethod
    def resolve_actions(obj: Any) -> list[Any]:
        return list(obj.actions.all())


class WorklistFilter(Schema):
    mine: Bool = Field(False, description="Only alerts assigned to me")
    include_resolved: Bool = False


class AlertVersionIn(Schema):
    version: Int | None = Field(default=None, description="The version you read; or send If-Match")


class AlertActionIn(AlertVersionIn):
    kind: ActionKind = Field(..., description="called_patient, advised, escalated_physician, sent_emergency or note")
    note: str = Field("", max_length=2000)


class AlertResolveIn(AlertVersionIn):
    note: str = Field("", max_length=2000)


class HistoryFilter(Schema):
    instrument: str | None = Field(default=None, description="Instrument code")
    since: DateTime | None = None
    limit: Int = Field(50, ge=1, le=100)
