"""Every write of symptom monitoring.  One transaction each, audited inside it.

The package: ``configuration`` (instruments on or off, alert rules, deadlines), ``reports``, ``alerts`` and
``schedules``; this module is their one entry, so callers write ``services.report_submit(...)``.

``report_submit`` is the one entry for a symptom report from any door (portal, a phone call entered by
staff, a FHIR QuestionnaireResponse): answers are validated and scored, the program's alert rules run
against the patient's previous report, and report, answers, scores, alert and audit rows commit together.
``reports_submit_many`` does the same for a batch (FHIR batch Bundles) with set-based queries.
"""

from __future__ import annotations

from .alerts import (
    alert_acknowledge,
    alert_record_action,
    alert_resolve,
    alerts_hand_off,
    notify_new_alerts,
    overdue_escalation_target,
    physician_escalation_target,
)
from .configuration import (
    CATEGORY,
    CONFIG_TTL_SECONDS,
    JOB_ACTOR,
    PROTECTED_RULES,
    PURPOSE,
    PermissionData,
    T,
    alert_policy_update,
    alert_rule_update,
    config_cache_clear,
    instrument_on,
    instrument_permission_disable,
    instrument_permission_record,
    other_permission_keeps_on,
    policy_for,
    rules_for,
    schedules_monitored_by,
    scoring_of,
)
from .reports import (
    Submission,
    SubmitResult,
    report_submit,
    reports_submit_many,
)
from .schedules import (
    ScheduleData,
    alert_escalate_overdue,
    alerts_due_for_escalation,
    schedule_claim_reminder,
    schedule_create,
    schedule_stop,
    schedules_due_for_reminder,
)

__all__ = [
    "CATEGORY",
    "CONFIG_TTL_SECONDS",
    "JOB_ACTOR",
    "PROTECTED_RULES",
    "PURPOSE",
    "PermissionData",
    "ScheduleData",
    "Submission",
    "SubmitResult",
    "T",
    "alert_acknowledge",
    "alert_escalate_overdue",
    "alert_policy_update",
    "alert_record_action",
    "alert_resolve",
    "alert_rule_update",
    "alerts_due_for_escalation",
    "alerts_hand_off",
    "config_cache_clear",
    "instrument_on",
    "instrument_permission_disable",
    "instrument_permission_record",
    "notify_new_alerts",
    "other_permission_keeps_on",
    "overdue_escalation_target",
    "physician_escalation_target",
    "policy_for",
    "report_submit",
    "reports_submit_many",
    "rules_for",
    "schedule_claim_reminder",
    "schedule_create",
    "schedule_stop",
    "schedules_due_for_reminder",
    "schedules_monitored_by",
    "scoring_of",
]
