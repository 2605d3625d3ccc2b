"""Symptom reports: ``report_submit`` is the one entry for a report from any door (portal, a phone call
entered by staff, a FHIR QuestionnaireResponse); ``reports_submit_many`` does the same for a batch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import translation

from oncoliaison.core import audit, bulk, bulkcreate, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ValidationFailed,
)
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentVersion,
)
from oncoliaison.organisations.models import CLINICAL_ROLES
from oncoliaison.patients.models import ConsentKind, Patient, ProxyScope
from oncoliaison.patients.selectors import active_consents, visible_patient_ids_q
from oncoliaison.programs.selectors import current_navigators

from .. import rules
from ..instruments import definition_for
from ..models import (
    Alert,
    AlertStatus,
    ReporterKind,
    ReportSchedule,
    ReportSource,
    Severity,
    SymptomAnswer,
    SymptomReport,
    SymptomScore,
)
from .alerts import (
    notify_new_alerts,
)
from .configuration import (
    CATEGORY,
    PURPOSE,
    instrument_on,
    policy_for,
    program_time_zone,
    rules_for,
)

# --- reports -----------------------------------------------------------------------------------------------


@dataclass
class Submission:
    patient: Patient
    instrument: Instrument | InstrumentVersion
    answers: Mapping[str, Any]
    source: str
    authored_at: dt.datetime | None = None
    source_system: str = ""
    source_id: str = ""


@dataclass
class SubmitResult:
    report: SymptomReport
    scores: list[rules.SymptomResult]
    alert: Alert | None
    guidance: rules.Guidance
    created: bool = True  # False: the same FHIR resource was already received (nothing changed)


@dataclass
class _Prepared:
    index: int
    sub: Submission
    version: InstrumentVersion
    reporter_kind: str
    answers: dict[str, int | str | None]
    results: list[rules.SymptomResult]
    free_text: str
    authored_at: dt.datetime
    report: SymptomReport | None = None
    reasons: list[rules.Reason] = field(default_factory=list)
    alert: Alert | None = None


def _language() -> str:
    """The language of the person's request (the page's), for the guidance shown back to them."""
    return translation.get_language() or settings.LANGUAGE_CODE


def _reporter_kind(actor: Actor, patient: Patient, source: str) -> str:
    """Who may report for whom, through which door (Forbidden when the role or door does not allow it)."""
    if source not in ReportSource.values:
        raise ValidationFailed("Unknown report source.", field_errors={"source": ["portal, phone or fhir"]})
    if actor.kind == "patient":
        if source != ReportSource.PORTAL:
            raise Forbidden("Patients report through the portal.")
        return ReporterKind.PATIENT
    if actor.kind == "caregiver":
        if source != ReportSource.PORTAL:
            raise Forbidden("Caregivers report through the portal.")
        allowed = active_consents().filter(
            kind=ConsentKind.CAREGIVER_PROXY, grantee_user_id=actor.user_id, patient_id=patient.pk,
            proxy_scope__in=[ProxyScope.REPORT, ProxyScope.MESSAGE],
        ).exists()
        if not allowed:
            raise Forbidden("Your proxy access is view-only; ask the patient to extend it to reporting.")
        return ReporterKind.PROXY
    if actor.kind == "system":
        if source != ReportSource.FHIR or not actor.allows("QuestionnaireResponse", "c"):
            raise Forbidden("This client's scopes do not allow creating QuestionnaireResponse resources.")
        return ReporterKind.SYSTEM
    if actor.kind == "staff":
        if not actor.clinical_organization_ids or not (actor.roles & CLINICAL_ROLES):
            raise Forbidden("Entering symptom reports needs a care role.")
        if source != ReportSource.PHONE:
            raise Forbidden("Staff enter reports taken by phone.")
        return ReporterKind.STAFF
    raise Forbidden("Sign in to report symptoms.")


def _version_of(instrument: Instrument | InstrumentVersion) -> InstrumentVersion:
    """The current version of an instrument (cached in ``oncoliaison.instruments.cache``)."""
    if isinstance(instrument, InstrumentVersion):
        return instrument
    version = instruments.current_version(instrument)
    if version is None or version.instrument.purpose != PURPOSE:
        raise NotFound()
    return version


def _previous_values(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], tuple[dt.datetime, dict[str, int | None]]]:
    """For each (patient, instrument): the latest stored report's time and symptom values.

    One query per instrument over the patients (each a LIMIT 1 subquery on the (patient, version,
    -authored_at) index), then one for their scores."""
    if not pairs:
        return {}
    by_instrument: dict[int, set[int]] = {}
    for patient_id, instrument_id in pairs:
        by_instrument.setdefault(instrument_id, set()).add(patient_id)
    latest: dict[int, tuple[int, int]] = {}  # report id -> (patient, instrument)
    for instrument_id, patient_ids in by_instrument.items():
        version_ids = instruments.version_ids(instrument_id)
        newest = SymptomReport.objects.filter(
            patient_id=OuterRef("pk"), version_id__in=version_ids
        ).order_by("-authored_at", "-id").values("id")[:1]
        for pid, rid in Patient.objects.filter(pk__in=patient_ids).annotate(rid=Subquery(newest)).values_list(
            "pk", "rid"
        ):
            if rid is not None:
                latest[rid] = (pid, instrument_id)
    if not latest:
        return {}
    values: dict[int, dict[str, int | None]] = {rid: {} for rid in latest}
    authored: dict[int, dt.datetime] = {}
    for report_id, code, value, when in SymptomScore.objects.filter(report_id__in=list(latest)).exclude(
        kind="scale"
    ).values_list("report_id", "code", "value", "report__authored_at"):
        values[report_id][code] = value
        authored[report_id] = when
    return {latest[rid]: (authored[rid], values[rid]) for rid in latest if rid in authored}


def _navigators(patient_ids: set[int]) -> dict[int, int]:
    """patient id -> user id of the patient's navigator now (the open episode's, after any hand-off)."""
    return current_navigators(patient_ids)


def reports_submit_many(*, actor: Actor, submissions: Sequence[Submission],
                        channel: str = "") -> list[SubmitResult | DomainError]:
    """Submit several reports in one transaction; each item answers its result or the error that refused it
    (invalid items do not stop the valid ones)."""
    now = clock.now()
    outcomes: list[SubmitResult | DomainError | None] = [None] * len(submissions)
    prepared: list[_Prepared] = []
    visible_q = visible_patient_ids_q(actor)
    candidate_ids = {s.patient.pk for s in submissions}
    if visible_q is None:
        visible: set[int] = set()
    elif actor.kind == "patient":
        visible = candidate_ids & {actor.own_patient_id or -1}
    else:
        visible = set(Patient.objects.filter(visible_q, pk__in=candidate_ids).values_list("pk", flat=True))
    enabled_cache: dict[tuple[int, int], bool] = {}  # within one call only: permissions change
    for index, sub in enumerate(submissions):
        try:
            reporter_kind = _reporter_kind(actor, sub.patient, sub.source)
            if sub.patient.pk not in visible:
                raise NotFound()
            version = _version_of(sub.instrument)
            key = (version.instrument_id, sub.patient.organization_id)
            if key not in enabled_cache:
                enabled_cache[key] = instrument_on(version.instrument, sub.patient.organization_id)
            if not enabled_cache[key]:
                raise Forbidden(f"{version.instrument.title} is not enabled for this program: its licence needs "
                                "permission, which a program administrator records.")
            definition = definition_for(version.pk)
            try:
                answers = rules.validate_answers(definition, sub.answers)
            except rules.AnswerError as exc:
                raise ValidationFailed("Some answers are not valid.",
                                       field_errors={k: [v] for k, v in exc.errors.items()}) from None
            if not any(isinstance(v, int) for v in answers.values()) and not any(
                isinstance(v, str) and v for v in answers.values()
            ):
                raise ValidationFailed("The report has no answers.")
            authored = sub.authored_at or now
            if authored.tzinfo is None:
                raise ValidationFailed("The time of the report needs a time zone.")
            if authored > now + dt.timedelta(minutes=5):
                raise ValidationFailed("The report cannot be dated in the future.",
                                       field_errors={"authored": ["In the future."]})
            free_text = " ".join(
                str(answers[i.link_id]) for i in definition.items if i.kind == "free_text" and answers.get(i.link_id)
            )
            prepared.append(_Prepared(index, sub, version, reporter_kind, answers,
                                      rules.score(definition, answers), free_text, authored))
        except DomainError as exc:
            outcomes[index] = exc
    if prepared:
        with transaction.atomic():
            _write(actor, prepared, outcomes, now, channel)
    return [o for o in outcomes if o is not None]


def _write(actor: Actor, prepared: list[_Prepared], outcomes: list[Any], now: dt.datetime, channel: str) -> None:
    # Resources already received (FHIR idempotency): answer the stored report, change nothing.
    keyed = [p for p in prepared if p.sub.source_id]
    if keyed:
        existing = {
            (r.source_system, r.source_id): r
            for r in SymptomReport.objects.filter(
                source_id__in={p.sub.source_id for p in keyed}, source_system__in={p.sub.source_system for p in keyed}
            ).select_related("alert")
        }
        fresh = []
        seen: set[tuple[str, str]] = set()
        for p in prepared:
            k = (p.sub.source_system, p.sub.source_id)
            if p.sub.source_id and (k in existing or k in seen):
                old = existing.get(k)
                if old is None or old.patient_id != p.sub.patient.pk:
                    outcomes[p.index] = Conflict("This resource id was already used for another report.")
                    continue
                alert = getattr(old, "alert", None)
                outcomes[p.index] = SubmitResult(old, p.results, alert, rules.guidance_for(
                    p.results, [rules.Reason(**r) for r in (alert.reasons if alert else [])],
                    alert.deadline if alert else None, _language(),
                    proxy=old.reporter_kind == ReporterKind.PROXY), created=False)
                continue
            seen.add(k)
            fresh.append(p)
        prepared = fresh
    if not prepared:
        return
    org_ids = {p.sub.patient.organization_id for p in prepared}
    org_rules = {o: rules_for(o) for o in org_ids}
    org_policy = {o: policy_for(o) for o in org_ids}
    previous = _previous_values({(p.sub.patient.pk, p.version.instrument_id) for p in prepared})
    tz = program_time_zone()
    # Oldest first, so that several reports of one patient in a batch compare with each other.
    prepared.sort(key=lambda p: (p.authored_at, p.index))
    reports = []
    for p in prepared:
        pair = (p.sub.patient.pk, p.version.instrument_id)
        prev = previous.get(pair)
        baseline = prev[1] if prev is not None and prev[0] <= p.authored_at else None
        org = p.sub.patient.organization_id
        p.reasons = rules.evaluate_alerts(p.results, baseline, p.free_text, org_rules[org])
        previous[pair] = (p.authored_at, {r.code: r.value for r in p.results if r.kind != "scale"})
        p.report = SymptomReport(
            patient_id=p.sub.patient.pk, organization_id=org, version=p.version, source=p.sub.source,
            reporter_kind=p.reporter_kind, reported_by_id=actor.user_id, client_id=actor.client_id or "",
            authored_at=p.authored_at, received_at=now, free_text=p.free_text,
            source_system=p.sub.source_system, source_id=p.sub.source_id,
            highest_severity=rules.highest_severity(p.reasons),
        )
        reports.append(p.report)
    try:
        bulkcreate.create_all(SymptomReport, reports)
    except IntegrityError as exc:
        raise Conflict("A report with this resource id was received at the same time; retry.") from exc
    answer_rows: list[tuple[Any, ...]] = []
    score_rows: list[tuple[Any, ...]] = []
    alerts: list[Alert] = []
    navigators = _navigators({p.sub.patient.pk for p in prepared if p.reasons})
    for p in prepared:
        assert p.report is not None
        rid, pid = p.report.pk, p.report.patient_id
        for link_id, value in p.answers.items():
            if isinstance(value, str):
                answer_rows.append((rid, link_id, None, value[:500]))
            else:
                answer_rows.append((rid, link_id, value, ""))
        for r in p.results:
            score_rows.append((rid, pid, r.kind, r.code, r.label[:120], r.value, r.max_value, r.band, r.note[:200]))
        if p.reasons:
            severity = rules.highest_severity(p.reasons)
            org = p.report.organization_id
            p.alert = Alert(
                patient_id=pid, organization_id=org, report=p.report, severity=severity,
                reasons=[r.as_dict() for r in p.reasons], summary=rules.summarise(p.reasons),
                status=AlertStatus.OPEN, created_at=now,
                deadline=rules.response_deadline(now, severity, org_policy[org], tz),
                assigned_to_id=navigators.get(pid),
            )
            alerts.append(p.alert)
    # Answers and scores are plain rows appended in bulk (COPY on PostgreSQL; the ORM's per-instance work
    # dominated batch ingest); they are never updated.
    _insert_rows(SymptomAnswer, ("report_id", "link_id", "value", "text"), answer_rows)
    _insert_rows(SymptomScore, ("report_id", "patient_id", "kind", "code", "label", "value", "max_value", "band",
                                "note"), score_rows)
    if alerts:
        bulkcreate.create_all(Alert, alerts)
    _advance_schedules(prepared)
    entries = []
    for p in prepared:
        assert p.report is not None
        entries.append(audit.Entry(AuditAction.CREATE, CATEGORY, "QuestionnaireResponse", p.report.pk,
                                   p.report.patient_id, detail=f"{p.sub.source} report; {len(p.results)} scores"))
        if p.alert is not None:
            entries.append(audit.Entry(AuditAction.CREATE, CATEGORY, "Flag", p.alert.pk, p.report.patient_id,
                                       detail=f"{p.alert.severity} alert"))
        outcomes[p.index] = SubmitResult(p.report, p.results, p.alert,
                                         rules.guidance_for(p.results, p.reasons,
                                                            p.alert.deadline if p.alert else None, _language(),
                                                            proxy=p.report.reporter_kind == ReporterKind.PROXY))
    audit.record(actor, entries, channel=channel)
    severe_ids = [a.pk for a in alerts if a.severity == Severity.SEVERE]
    if severe_ids:
        transaction.on_commit(lambda: notify_new_alerts(severe_ids))


def _insert_rows(model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    bulk.insert_rows(model, columns, rows)



def _advance_schedules(prepared: list[_Prepared]) -> None:
    """A report answers the patient's schedule for that instrument: the next one is due a period later."""
    latest: dict[tuple[int, int], dt.datetime] = {}
    for p in prepared:
        key = (p.sub.patient.pk, p.version.instrument_id)
        latest[key] = max(latest.get(key, p.authored_at), p.authored_at)
    rows = list(ReportSchedule.objects.filter(
        active=True, patient_id__in={k[0] for k in latest}, instrument_id__in={k[1] for k in latest}
    ))
    changed = []
    for s in rows:
        when = latest.get((s.patient_id, s.instrument_id))
        if when is None:
            continue
        # Reports made within the period before the due time count for it.
        if when >= s.next_due_at - dt.timedelta(days=s.frequency_days):
            # Early (within the period before it was due): the next one is a period after the due time.
            # Late: a period after the report.
            s.next_due_at = max(s.next_due_at, when) + dt.timedelta(days=s.frequency_days)
            s.version += 1
            changed.append(s)
    if changed:
        ReportSchedule.objects.bulk_update(changed, ["next_due_at", "version"])


def report_submit(*, actor: Actor, patient: Patient, instrument: Instrument | InstrumentVersion,
                  answers: Mapping[str, Any], source: str, authored_at: dt.datetime | None = None,
                  source_system: str = "", source_id: str = "", channel: str = "") -> SubmitResult:
    """Validate, score and store one report with its alert, in one audited transaction.

    ``answers``: item link id -> coded answer (int; None = missing) or text.  Returns the stored report,
    the derived scores, the alert (or None) and what to tell the patient now.
    """
    outcome = reports_submit_many(
        actor=actor,
        submissions=[Submission(patient, instrument, answers, source, authored_at, source_system, source_id)],
        channel=channel,
    )[0]
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome
