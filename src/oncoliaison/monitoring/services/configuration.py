"""Symptom monitoring's settings of a program: the instruments it may use (and their licence permissions),
its alert rules and its response deadlines."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet

from oncoliaison.core import audit, clock
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import (
    ValidationFailed,
)
from oncoliaison.core.models import AuditAction
from oncoliaison.instruments import selectors as instruments
from oncoliaison.instruments import services as instrument_services
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentPermission,
    PermissionKind,
    Purpose,
)
from oncoliaison.instruments.selectors import instrument_enabled_for

from .. import rules
from ..models import (
    AlertPolicy,
    AlertRule,
    ReportSchedule,
    RuleKind,
    Severity,
)

CATEGORY = "symptoms"
# The scheduler's identity in the audit log.
JOB_ACTOR = Actor(kind="system", username="scheduled-jobs", client_id="oncoliaison-jobs")


def program_time_zone() -> ZoneInfo:
    """The time zone the program works in (deadlines, office hours, "today")."""
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
