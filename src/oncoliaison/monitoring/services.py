"""Every write of symptom monitoring.  One transaction each, audited inside it.

``report_submit`` is the one entry for a symptom report from any door (portal, a phone call entered by
staff, a FHIR QuestionnaireResponse): answers are validated and scored, the program's alert rules run
against the patient's previous report, and report, answers, scores, alert and audit rows commit together.
``reports_submit_many`` does the same for a batch (FHIR batch Bundles) with set-based queries.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Q, QuerySet, Subquery
from django.utils import translation

from oncoliaison.core import audit, bulk, bulkcreate, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments import services as instrument_services
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentPermission,
    InstrumentVersion,
    PermissionKind,
    Purpose,
)
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.organisations.models import CLINICAL_ROLES, Role
from oncoliaison.patients.models import CareTeamParticipant, ConsentKind, Patient, ProxyScope
from oncoliaison.patients.selectors import active_consents, current_participant_q, visible_patient_ids_q
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode
from oncoliaison.programs.selectors import current_navigators

from . import rules
from .instruments import definition_for
from .models import (
    NOTE_REQUIRED,
    STAFF_ACTIONS,
    ActionKind,
    Alert,
    AlertAction,
    AlertPolicy,
    AlertRule,
    AlertStatus,
    ReporterKind,
    ReportSchedule,
    ReportSource,
    RuleKind,
    ScoringMethod,
    Severity,
    SymptomAnswer,
    SymptomReport,
    SymptomScore,
)

CATEGORY = "symptoms"
# The scheduler's identity in the audit log.
JOB_ACTOR = Actor(kind="system", username="scheduled-jobs", client_id="oncoliaison-jobs")


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


# --- instruments and their licences ------------------------------------------------------------------------


PURPOSE = Purpose.SYMPTOM_MONITORING


def scoring_of(instrument: Instrument) -> str:
    """The scoring function (``ScoringMethod``) of the instrument's current version."""
    version = instruments.current_version(instrument)
    return version.scoring if version is not None else ""


def instrument_on(instrument: Instrument, organization_id: int) -> bool:
    """Free instruments are on; one needing permission is on while a recorded permission is in force."""
    return instrument_enabled_for(instrument, organization_id)[0]


@dataclass
class PermissionData:
    granted_by: str
    reference: str
    granted_on: dt.date | None
    expires_on: dt.date | None = None
    scope_note: str = ""


def instrument_permission_record(*, actor: Actor, instrument: Instrument, organization_id: int,
                                 data: PermissionData, channel: str = "web") -> InstrumentPermission:
    """A program administrator records the licence holder's permission, which enables the instrument."""
    require_admin(actor, organization_id)
    errors: dict[str, list[str]] = {}
    if not data.granted_by.strip():
        errors["granted_by"] = ["Enter who granted the permission."]
    if not data.reference.strip():
        errors["reference"] = ["Enter the letter, agreement or e-mail reference."]
    if data.granted_on is None:
        errors["granted_on"] = ["Enter the date the permission was granted."]
    elif data.expires_on is not None and data.expires_on < data.granted_on:
        errors["expires_on"] = ["The permission cannot expire before it was granted."]
    if errors:
        raise ValidationFailed("The permission record is not complete.", field_errors=errors)
    assert data.granted_on is not None
    entry = instrument_services.PermissionEntry(
        kind=PermissionKind.GRANT, granted_by=data.granted_by, reference=data.reference, granted_on=data.granted_on,
        expires_on=data.expires_on, note=data.scope_note)
    return instrument_services.permission_record(
        actor=actor, instrument=instrument, organization_id=organization_id, entry=entry, channel=channel,
        detail=f"permission recorded; {instrument.code} enabled")


def schedules_monitored_by(organization_id: int, instrument_id: int | None = None) -> QuerySet[ReportSchedule]:
    """Active, unended reporting schedules of the program's patients (of one instrument, or all): who stops
    being monitored when an instrument or an alert rule of the program is switched off."""
    qs = ReportSchedule.objects.filter(active=True, patient__organization_id=organization_id).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=clock.today()))
    return qs if instrument_id is None else qs.filter(instrument_id=instrument_id)


def _switch_off_checks(reason: str, confirmed: bool, affected: int, what: str) -> None:
    """Switching monitoring off is never one click: a reason, and a confirmation that names who is affected."""
    errors: dict[str, list[str]] = {}
    if not reason.strip():
        errors["reason"] = [f"Say why {what} is switched off (it is recorded)."]
    if not confirmed:
        errors["confirm"] = [f"Confirm: {affected} active reporting schedule(s) of your patients are affected."
                             if affected else "Confirm that you want to switch it off."]
    if errors:
        raise ValidationFailed(f"Switching off {what} needs a reason and your confirmation.", field_errors=errors)


def instrument_permission_disable(*, actor: Actor, permission: InstrumentPermission, reason: str = "",
                                  confirmed: bool = False, channel: str = "web") -> InstrumentPermission:
    """Disable a recorded licence permission (a grant), with a reason and a confirmation naming the schedules
    affected.  The grant stays on record; a withdrawal entry is added to the history.  When no other permission
    keeps the instrument on, its active schedules can no longer be answered: they are listed on the CLP's
    worklist (``selectors.unmonitored_schedules_for``) until they are stopped or moved.  Returns the withdrawal
    (or, when the grant had already ended, the grant)."""
    require_admin(actor, permission.organization_id)
    if not instruments.grant_record(permission).standing:
        return permission
    instrument = permission.instrument
    stays_on = not instrument.requires_permission or other_permission_keeps_on(permission)
    affected = 0 if stays_on else schedules_monitored_by(permission.organization_id, instrument.pk).count()
    _switch_off_checks(reason, confirmed, affected, f"{instrument.title}")
    entry = instrument_services.PermissionEntry(kind=PermissionKind.WITHDRAW, withdraws=permission, reason=reason)
    return instrument_services.permission_record(
        actor=actor, instrument=instrument, organization_id=permission.organization_id, entry=entry, channel=channel,
        detail=f"permission disabled; instrument {'still on' if stays_on else 'off'}; "
               f"{affected} active schedules affected")


def other_permission_keeps_on(permission: InstrumentPermission) -> bool:
    return instruments.other_grant_keeps_on(permission)


# --- alert rules and deadlines of a program ----------------------------------------------------------------


# A program's rules and deadlines are read on every report; each process keeps them for a few seconds.
# Changes made here clear this process's copy at once; other processes pick them up within the TTL.
CONFIG_TTL_SECONDS = 10.0
_CONFIG: dict[tuple[str, int], tuple[float, Any]] = {}

T = TypeVar("T")


def _cached(kind: str, organization_id: int, load: Callable[[int], T]) -> T:
    key = (kind, organization_id)
    hit = _CONFIG.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < CONFIG_TTL_SECONDS:
        cached: T = hit[1]  # stored under this kind by load, so a T
        return cached
    value = load(organization_id)
    _CONFIG[key] = (now, value)
    return value


def config_cache_clear() -> None:
    _CONFIG.clear()


def rules_for(organization_id: int) -> list[rules.RuleConfig]:
    """The program's rules (cached for CONFIG_TTL_SECONDS)."""
    return _cached("rules", organization_id, _load_rules)


def policy_for(organization_id: int) -> rules.DeadlinePolicy:
    """The program's response deadlines (cached for CONFIG_TTL_SECONDS)."""
    return _cached("policy", organization_id, _load_policy)


def _load_rules(organization_id: int) -> list[rules.RuleConfig]:
    """The program's rules; a kind the program has not configured keeps its default."""
    configured = {r.kind: r for r in AlertRule.objects.filter(organization_id=organization_id)}
    out = []
    for default in rules.DEFAULT_RULES:
        row = configured.get(default.kind)
        if row is None:
            out.append(default)
        else:
            out.append(rules.RuleConfig(row.kind, row.severity, row.enabled, {**default.params, **row.params}))
    return out


def _load_policy(organization_id: int) -> rules.DeadlinePolicy:
    row = AlertPolicy.objects.filter(organization_id=organization_id).first()
    if row is None:
        return rules.DeadlinePolicy()
    holidays = frozenset(dt.date.fromisoformat(d) for d in row.holidays or [])
    return rules.DeadlinePolicy(row.severe_minutes, row.moderate_business_days, row.mild_business_days,
                                row.business_day_end_hour, holidays)


# Rules that catch possible emergencies.  They are never switched off; a program changes them (thresholds,
# phrases), and the changed rule replaces the previous one in the same save, so no report goes unchecked.
PROTECTED_RULES = {
    RuleKind.SEVERE: "A symptom reaching severe always alerts: change the thresholds instead of switching the rule "
                     "off (the changed rule replaces this one).",
    RuleKind.RED_FLAG: "Red-flag phrases (fever, chest pain, bleeding…) always alert: edit the phrases instead of "
                       "switching the rule off (the changed list replaces this one).",
}


def alert_rule_update(*, actor: Actor, organization_id: int, kind: str, enabled: bool, severity: str,
                      params: Mapping[str, Any], reason: str = "", confirmed: bool = False,
                      channel: str = "web") -> AlertRule:
    """Change one alert rule of the program.  The severe-symptom and red-flag rules cannot be switched off
    (PROTECTED_RULES); switching another rule off needs a reason and a confirmation naming the patients
    with active schedules, and is recorded on the rule and in the audit log."""
    require_admin(actor, organization_id)
    errors: dict[str, list[str]] = {}
    if kind not in RuleKind.values:
        errors["kind"] = ["Unknown rule."]
    elif not enabled and kind in PROTECTED_RULES:
        errors["enabled"] = [PROTECTED_RULES[RuleKind(kind)]]
    if severity not in Severity.values:
        errors["severity"] = ["Choose severe, moderate or mild."]
    allowed = {"esas_at": (1, 10), "grade_at": (1, 3), "points": (1, 10), "grades": (1, 3)}
    clean: dict[str, Any] = {}
    for key, value in params.items():
        if key in allowed:
            lo, hi = allowed[key]
            if not isinstance(value, int) or not lo <= value <= hi:
                errors.setdefault(key, []).append(f"Must be a whole number from {lo} to {hi}.")
            clean[key] = value
        elif key == "phrases":
            phrases = [str(p).strip() for p in value if str(p).strip()] if isinstance(value, list) else []
            if kind == RuleKind.RED_FLAG and enabled and not phrases:
                errors.setdefault("phrases", []).append("Enter at least one phrase.")
            clean[key] = phrases
        elif key == "presence":
            clean[key] = bool(value)
        else:
            errors.setdefault(key, []).append("Unknown setting.")
    if errors:
        raise ValidationFailed("The alert rule is not valid.", field_errors=errors)
    switching_off = not enabled and next(r for r in rules_for(organization_id) if r.kind == kind).enabled
    affected = schedules_monitored_by(organization_id).values("patient_id").distinct().count() if switching_off else 0
    if switching_off:
        _switch_off_checks(reason, confirmed, affected, f"the rule “{RuleKind(kind).label}”")
    with transaction.atomic():
        rule, created = AlertRule.objects.select_for_update().get_or_create(
            organization_id=organization_id, kind=kind,
            defaults={"enabled": enabled, "severity": severity, "params": clean},
        )
        if not created:
            rule.enabled, rule.severity, rule.params = enabled, severity, clean
            rule.version += 1
        if switching_off:
            rule.disabled_at, rule.disabled_by_id, rule.disabled_reason = clock.now(), actor.user_id, reason.strip()[:2000]
        elif enabled:
            rule.disabled_at, rule.disabled_by_id, rule.disabled_reason = None, None, ""
        rule.save()
        audit.log(actor, AuditAction.ADMIN, category="alert-rule", resource_type="AlertRule", resource_id=rule.pk,
                  detail=f"{kind} enabled={enabled} severity={severity}"
                         + (f"; switched off, {affected} patients with active schedules" if switching_off else ""),
                  channel=channel)
        config_cache_clear()
        transaction.on_commit(config_cache_clear)
    return rule


def alert_policy_update(*, actor: Actor, organization_id: int, severe_minutes: int, moderate_business_days: int,
                        mild_business_days: int, business_day_end_hour: int, holidays: Sequence[dt.date],
                        channel: str = "web") -> AlertPolicy:
    require_admin(actor, organization_id)
    errors: dict[str, list[str]] = {}
    if not 5 <= severe_minutes <= 24 * 60:
        errors["severe_minutes"] = ["Between 5 minutes and 24 hours."]
    if not 0 <= moderate_business_days <= 10 or not 0 <= mild_business_days <= 20:
        errors["business_days"] = ["Between 0 and 10 (moderate) or 20 (mild) business days."]
    if not 8 <= business_day_end_hour <= 22:
        errors["business_day_end_hour"] = ["Between 8 and 22."]
    if errors:
        raise ValidationFailed("The response deadlines are not valid.", field_errors=errors)
    with transaction.atomic():
        policy, _ = AlertPolicy.objects.update_or_create(
            organization_id=organization_id,
            defaults={"severe_minutes": severe_minutes, "moderate_business_days": moderate_business_days,
                      "mild_business_days": mild_business_days, "business_day_end_hour": business_day_end_hour,
                      "holidays": sorted({d.isoformat() for d in holidays})},
        )
        audit.log(actor, AuditAction.ADMIN, category="alert-rule", resource_type="AlertPolicy",
                  resource_id=policy.pk, detail="response deadlines updated", channel=channel)
        config_cache_clear()
        transaction.on_commit(config_cache_clear)
    return policy


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
    tz = _tz()
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
        transaction.on_commit(lambda: _notify_new_alerts(severe_ids))


def _insert_rows(model: type[Any], columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    bulk.insert_rows(model, columns, rows)


def _notify_new_alerts(alert_ids: list[int]) -> None:
    from .tasks import notify_alerts

    notify_alerts.enqueue(alert_ids)


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


# --- alerts ------------------------------------------------------------------------------------------------


def _require_care_role(actor: Actor) -> None:
    if actor.kind != "staff" or not actor.clinical_organization_ids:
        raise Forbidden("Responding to symptom alerts needs a care role.")


def _locked_alert(actor: Actor, alert: Alert, expected_version: int | None) -> Alert:
    q = visible_patient_ids_q(actor)
    if q is None:
        raise NotFound()
    locked = (Alert.objects.select_for_update().filter(pk=alert.pk, patient__in=Patient.objects.filter(q))
              .first())
    if locked is None:
        raise NotFound()
    if expected_version is not None and expected_version != locked.version:
        raise PreconditionFailed("Someone else updated this alert; reload it.")
    return locked


def _log_alert(actor: Actor, alert: Alert, detail: str, channel: str) -> None:
    audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="Flag", resource_id=alert.pk,
              patient_id=alert.patient_id, detail=detail, channel=channel)


def alert_acknowledge(*, actor: Actor, alert: Alert, expected_version: int | None = None,
                      channel: str = "web") -> Alert:
    _require_care_role(actor)
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            raise Conflict("This alert is already resolved.")
        if locked.acknowledged_at is None:
            now = clock.now()
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
            if locked.status == AlertStatus.OPEN:
                locked.status = AlertStatus.ACKNOWLEDGED
            locked.version += 1
            locked.save()
            AlertAction.objects.create(alert=locked, kind=ActionKind.ACKNOWLEDGED, by_id=actor.user_id, at=now)
            _log_alert(actor, locked, "acknowledged", channel)
    return locked


def _current_physicians(alert: Alert, clinical_roles: Sequence[str]) -> list[tuple[int, str]]:
    """(user id, program role) of the members today of the patient's active care teams who hold one of
    ``clinical_roles`` at the alert's organisation, in the order they joined."""
    return [
        (int(uid), str(role)) for uid, role in CareTeamParticipant.objects.filter(
            current_participant_q(), care_team__patient_id=alert.patient_id, care_team__status="active",
            user__is_active=True, user__memberships__role__in=list(clinical_roles), user__memberships__active=True,
            user__memberships__organization_id=alert.organization_id,
        ).values_list("user_id", "user__memberships__role").order_by("id")
    ]


def _program_clp(alert: Alert) -> int | None:
    """The CLP of the patient's open program episode at the alert's organisation, else one on the care team."""
    episode_clp = (ProgramEpisode.objects.filter(patient_id=alert.patient_id, organization_id=alert.organization_id,
                                                 status__in=OPEN_EPISODE_STATUSES, clp__is_active=True)
                   .order_by("pk").values_list("clp_id", flat=True).first())
    if episode_clp is not None:
        return int(episode_clp)
    team = _current_physicians(alert, [Role.CLP])
    return team[0][0] if team else None


def overdue_escalation_target(alert: Alert) -> int | None:
    """Who an alert that passed its deadline unacknowledged goes to: the program's CLP (oversight of the
    navigators' response), else the patient's treating physician."""
    clp = _program_clp(alert)
    if clp is not None:
        return clp
    physicians = _current_physicians(alert, [Role.PHYSICIAN])
    return physicians[0][0] if physicians else None


def physician_escalation_target(alert: Alert) -> int | None:
    """Who "Escalated to physician" goes to: the patient's treating physician (a physician on the patient's
    care team today, the first to have joined), with the program's CLP as the fallback."""
    physicians = _current_physicians(alert, [Role.PHYSICIAN])
    if physicians:
        return physicians[0][0]
    return _program_clp(alert)


def alert_record_action(*, actor: Actor, alert: Alert, kind: str, note: str = "",
                        expected_version: int | None = None, channel: str = "web") -> Alert:
    """Record what was done (called, advised, escalated to a physician, sent to emergency, a note).
    Acting on an alert acknowledges it."""
    _require_care_role(actor)
    if kind not in STAFF_ACTIONS:
        raise ValidationFailed("Choose an action.", field_errors={"kind": ["Unknown action."]})
    if not note.strip():
        # What was said or done is the record: "Called the patient" with no note documents nothing.
        raise ValidationFailed(NOTE_REQUIRED[kind], field_errors={"note": [NOTE_REQUIRED[kind]]})
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            raise Conflict("This alert is already resolved.")
        now = clock.now()
        escalated_to: int | None = None
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
            AlertAction.objects.create(alert=locked, kind=ActionKind.ACKNOWLEDGED, by_id=actor.user_id, at=now)
            if locked.status == AlertStatus.OPEN:
                locked.status = AlertStatus.ACKNOWLEDGED
        if kind == ActionKind.ESCALATED_TO_PHYSICIAN:
            locked.status = AlertStatus.ESCALATED
            locked.escalated_at = now
            locked.escalated_to_id = physician_escalation_target(locked)
            escalated_to = locked.escalated_to_id
        locked.version += 1
        locked.save()
        AlertAction.objects.create(alert=locked, kind=kind, note=note.strip()[:2000], by_id=actor.user_id, at=now)
        _log_alert(actor, locked, f"action {kind}" + (f"; to {escalated_to}" if escalated_to else ""), channel)
        if escalated_to is not None:
            alert_id = locked.pk
            transaction.on_commit(lambda: _notify_escalation(alert_id))
    return locked


def _notify_escalation(alert_id: int) -> None:
    from .tasks import notify_escalation

    notify_escalation.enqueue(alert_id)


def alert_resolve(*, actor: Actor, alert: Alert, note: str = "", expected_version: int | None = None,
                  channel: str = "web") -> Alert:
    _require_care_role(actor)
    with transaction.atomic():
        locked = _locked_alert(actor, alert, expected_version)
        if locked.status == AlertStatus.RESOLVED:
            return locked
        if not locked.actions.exclude(kind__in=[ActionKind.ACKNOWLEDGED, ActionKind.ESCALATED_AUTOMATICALLY]).exists() \
                and not note.strip():
            raise ValidationFailed("Record what was done (an action or a note) before resolving.",
                                   field_errors={"note": ["Say what was done."]})
        now = clock.now()
        if locked.acknowledged_at is None:
            locked.acknowledged_at, locked.acknowledged_by_id = now, actor.user_id
        locked.status, locked.resolved_at, locked.resolved_by_id = AlertStatus.RESOLVED, now, actor.user_id
        locked.version += 1
        locked.save()
        AlertAction.objects.create(alert=locked, kind=ActionKind.RESOLVED, note=note.strip()[:2000],
                                   by_id=actor.user_id, at=now)
        _log_alert(actor, locked, "resolved", channel)
    return locked


def alerts_hand_off(*, actor: Actor, patient_id: int, from_user_id: int, to_user_id: int,
                    channel: str = "web") -> int:
    """A patient's navigator changed: the patient's open alerts assigned to the previous navigator (or to
    no one) are assigned to the new one, in the hand-off's transaction; a severe alert nobody has
    acknowledged yet is notified to the new navigator once it commits.  Returns how many alerts moved."""
    alerts = list(Alert.objects.select_for_update().filter(
        Q(assigned_to_id=from_user_id) | Q(assigned_to__isnull=True),
        patient_id=patient_id, status__in=[AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.ESCALATED],
    ))
    if not alerts:
        return 0
    Alert.objects.filter(pk__in=[a.pk for a in alerts]).update(assigned_to_id=to_user_id, version=F("version") + 1)
    audit.record(actor, [audit.Entry(AuditAction.UPDATE, CATEGORY, "Flag", a.pk, patient_id,
                                     detail=f"assigned to navigator {to_user_id} (was {a.assigned_to_id})")
                         for a in alerts], channel=channel)
    unanswered = [a.pk for a in alerts if a.severity == Severity.SEVERE and a.status == AlertStatus.OPEN]
    if unanswered:
        transaction.on_commit(lambda: _notify_new_alerts(unanswered))
    return len(alerts)


# --- scheduled jobs (called by tasks.py; ids in, safe to run twice) -------------------------------------


def alerts_due_for_escalation(now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(Alert.objects.filter(status=AlertStatus.OPEN, deadline__lt=now).values_list("pk", flat=True))


def alert_escalate_overdue(alert_id: int, *, now: dt.datetime | None = None) -> bool:
    """Escalate one unacknowledged alert whose deadline passed to the CLP / physician.  The conditional
    UPDATE claims it, so two workers (or a re-run) escalate it once.  Returns whether this call did."""
    now = now or clock.now()
    with transaction.atomic():
        alert = Alert.objects.filter(pk=alert_id).first()
        if alert is None:
            return False
        target = overdue_escalation_target(alert)
        claimed = Alert.objects.filter(pk=alert_id, status=AlertStatus.OPEN, deadline__lt=now).update(
            status=AlertStatus.ESCALATED, escalated_at=now, escalated_to_id=target, version=F("version") + 1,
        )
        if not claimed:
            return False
        AlertAction.objects.create(alert_id=alert_id, kind=ActionKind.ESCALATED_AUTOMATICALLY, at=now,
                                   note="No acknowledgement before the response deadline.")
        audit.log(JOB_ACTOR, AuditAction.UPDATE, category=CATEGORY, resource_type="Flag", resource_id=alert_id,
                  patient_id=alert.patient_id, detail="escalated: deadline passed", channel="job")
    return True


def schedules_due_for_reminder(now: dt.datetime | None = None) -> list[int]:
    now = now or clock.now()
    return list(
        ReportSchedule.objects.filter(active=True, next_due_at__lte=now)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=now.astimezone(_tz()).date()))
        .filter(Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lt=F("next_due_at")))
        .values_list("pk", flat=True)
    )


def schedule_claim_reminder(schedule_id: int, *, now: dt.datetime | None = None) -> ReportSchedule | None:
    """Claim one due reminder (conditional UPDATE); None when it was already sent for this due time."""
    now = now or clock.now()
    schedule = ReportSchedule.objects.select_related("instrument", "patient").filter(pk=schedule_id).first()
    if schedule is None or not instrument_on(schedule.instrument, schedule.patient.organization_id):
        # The instrument was switched off for the program: the patient could not answer, so no reminder is
        # sent; the schedule is listed on the CLP's worklist until it is stopped or the licence restored.
        return None
    with transaction.atomic():
        return _claim_reminder(schedule_id, now)


def _claim_reminder(schedule_id: int, now: dt.datetime) -> ReportSchedule | None:
    claimed = ReportSchedule.objects.filter(
        Q(last_reminder_at__isnull=True) | Q(last_reminder_at__lt=F("next_due_at")),
        pk=schedule_id, active=True, next_due_at__lte=now,
    ).update(last_reminder_at=now, reminder_count=F("reminder_count") + 1)
    if not claimed:
        return None
    schedule = ReportSchedule.objects.select_related("patient", "patient__user", "instrument").get(pk=schedule_id)
    audit.log(JOB_ACTOR, AuditAction.UPDATE, category=CATEGORY, resource_type="ReportSchedule",
              resource_id=schedule_id, patient_id=schedule.patient_id, detail="reminder sent", channel="job")
    return schedule


# --- schedules ------------------------------------------------------------------------------------------


@dataclass
class ScheduleData:
    instrument_id: int
    care_plan_label: str
    frequency_days: int = 7
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    proctcae_terms: list[int] = field(default_factory=list)


def schedule_create(*, actor: Actor, patient: Patient, data: ScheduleData, channel: str = "web") -> ReportSchedule:
    """Ask a patient to report on a schedule (staff with a care role; the patient must be visible)."""
    _require_care_role(actor)
    q = visible_patient_ids_q(actor)
    if q is None or not Patient.objects.filter(q, pk=patient.pk).exists():
        raise NotFound()
    instrument = instruments.instruments_for_purpose(PURPOSE).filter(pk=data.instrument_id).first()
    errors: dict[str, list[str]] = {}
    if instrument is None:
        errors["instrument"] = ["Choose an instrument."]
    elif not instrument_on(instrument, patient.organization_id):
        errors["instrument"] = ["This instrument is not enabled for the program (licence permission needed)."]
    if not data.care_plan_label.strip():
        errors["care_plan_label"] = ["Name the care plan, e.g. Active chemotherapy."]
    if not 1 <= data.frequency_days <= 90:
        errors["frequency_days"] = ["Between 1 and 90 days."]
    starts = data.starts_on or clock.today()
    if data.ends_on is not None and data.ends_on < starts:
        errors["ends_on"] = ["The schedule cannot end before it starts."]
    terms = sorted(set(data.proctcae_terms))
    if instrument is not None and scoring_of(instrument) == ScoringMethod.PROCTCAE:
        known = set(rules.term_patterns()) | set(
            InstrumentVersion.objects.filter(instrument=instrument, current=True)
            .values_list("items__term", flat=True)
        )
        unknown = [t for t in terms if t not in known]
        if not terms:
            errors["proctcae_terms"] = ["Choose the PRO-CTCAE symptoms for this care plan."]
        elif unknown:
            errors["proctcae_terms"] = [f"Unknown PRO-CTCAE terms: {unknown}."]
    elif terms:
        errors["proctcae_terms"] = ["Symptom choice applies to PRO-CTCAE only."]
    if errors:
        raise ValidationFailed("The schedule is not valid.", field_errors=errors)
    assert instrument is not None
    first_due = dt.datetime.combine(starts, dt.time(9), tzinfo=_tz())
    with transaction.atomic():
        schedule = ReportSchedule.objects.create(
            patient=patient, instrument=instrument, care_plan_label=data.care_plan_label.strip()[:120],
            proctcae_terms=terms, frequency_days=data.frequency_days, starts_on=starts, ends_on=data.ends_on,
            next_due_at=first_due, created_by_id=actor.user_id, created_at=clock.now(),
        )
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="ReportSchedule",
                  resource_id=schedule.pk, patient_id=patient.pk,
                  detail=f"{instrument.code} every {data.frequency_days} days", channel=channel)
    return schedule


def schedule_stop(*, actor: Actor, schedule: ReportSchedule, channel: str = "web") -> ReportSchedule:
    _require_care_role(actor)
    q = visible_patient_ids_q(actor)
    if q is None or not Patient.objects.filter(q, pk=schedule.patient_id).exists():
        raise NotFound()
    with transaction.atomic():
        ReportSchedule.objects.filter(pk=schedule.pk).update(active=False, version=F("version") + 1)
        schedule.active = False
        audit.log(actor, AuditAction.UPDATE, category=CATEGORY, resource_type="ReportSchedule",
                  resource_id=schedule.pk, patient_id=schedule.patient_id, detail="stopped", channel=channel)
    return schedule

