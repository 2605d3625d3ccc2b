"""Pure rules of a navigator's caseload: how urgent each patient's open work is, and when a task escalates.

The worklist ranks by them (worklists.selectors) and each open program episode stores the load they add up to
(careplans.workload), so they sit here, below both."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Task priorities (FHIR request priority) that escalate to the CLP once overdue.
ESCALATING_PRIORITIES = frozenset({"urgent", "asap", "stat"})
_PRIORITY_RANK = {"stat": 4, "asap": 3, "urgent": 2, "routine": 1}
_SEVERITY_RANK = {"severe": 3, "moderate": 2, "mild": 1}


def task_escalates(*, priority: str, due_date: dt.date | None, today: dt.date) -> bool:
    """An overdue urgent (or asap / stat) task rises to the CLP's list."""
    return priority in ESCALATING_PRIORITIES and due_date is not None and due_date < today


@dataclass(frozen=True)
class PatientLoad:
    """What is open for one patient on a navigator's list."""

    worst_alert: str = ""  # severe | moderate | mild | ""
    overdue_tasks: int = 0
    overdue_urgent_tasks: int = 0
    open_barriers: int = 0
    reports_overdue: int = 0


def urgency(load: PatientLoad) -> tuple[int, list[str]]:
    """A sortable urgency (higher first) and the reasons, in the order a navigator should read them.

    Severe symptom alerts come first, then overdue urgent tasks, moderate alerts, other overdue tasks,
    overdue symptom reports and open barriers.
    """
    score, reasons = 0, []
    if load.worst_alert == "severe":
        score += 1000
        reasons.append("Severe symptom alert")
    if load.overdue_urgent_tasks:
        score += 300 * load.overdue_urgent_tasks
        reasons.append(f"{load.overdue_urgent_tasks} overdue urgent task(s)")
    if load.worst_alert == "moderate":
        score += 200
        reasons.append("Moderate symptom alert")
    if load.worst_alert == "mild":
        score += 20
        reasons.append("Mild symptom alert")
    other_overdue = load.overdue_tasks - load.overdue_urgent_tasks
    if other_overdue > 0:
        score += 50 * other_overdue
        reasons.append(f"{other_overdue} overdue task(s)")
    if load.reports_overdue:
        score += 30
        reasons.append("Symptom report overdue")
    if load.open_barriers:
        score += 10 * load.open_barriers
        reasons.append(f"{load.open_barriers} open barrier(s)")
    return score, reasons


def priority_rank(priority: str) -> int:
    return _PRIORITY_RANK.get(priority, 0)


def severity_rank(severity: str) -> int:
    return _SEVERITY_RANK.get(severity, 0)
