"""A patient's open work — overdue open tasks (urgent among them) and open barriers — kept on each open
program episode, so that a navigator's worklist ranks a caseload of thousands from one index instead of
aggregating every patient's tasks on each read.

Kept correct by three rules:
* every task or barrier write of a patient marks the load of the patient's open episodes stale: the care-plan
  services, the only writers of tasks and barriers, call ``mark_stale`` explicitly in the same transaction
  (no signal receivers; code that writes tasks some other way — the demo's date shift — calls it too);
* the load remembers the day an open task next falls overdue (``load_valid_until``): from that day on it
  is expired, since time alone changed it;
* readers call ``refresh_stale`` for the episodes they rank, which recomputes the stale and expired ones
  (few, normally) before reading.  ``refresh`` recomputes any set of patients (``oncoliaison
  refresh-worklist-loads`` does all, e.g. after a bulk load).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Min, Q, QuerySet

from oncoliaison.programs import caseload
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode

from .models import Barrier, BarrierStatus, Task
from .rules import TASK_OPEN

_BATCH = 1000


def mark_stale(patient_ids: Iterable[int]) -> None:
    ids = sorted(set(patient_ids))
    if ids:
        ProgramEpisode.objects.filter(patient_id__in=ids, status__in=OPEN_EPISODE_STATUSES, load_stale=False) \
            .update(load_stale=True)


def expired_q(today: dt.date) -> Q:
    """Episodes whose stored load must be recomputed before it is read on ``today``."""
    return Q(load_stale=True) | Q(load_valid_until__lte=today)


def compute(patient_ids: list[int], today: dt.date) -> dict[int, dict[str, Any]]:
    """The load of each patient as of ``today`` (every patient in ``patient_ids`` gets an entry)."""
    loads: dict[int, dict[str, Any]] = {
        pid: {"load_overdue_tasks": 0, "load_overdue_urgent_tasks": 0, "load_open_barriers": 0,
              "load_valid_until": None} for pid in patient_ids
    }
    open_tasks = Task.objects.filter(patient_id__in=patient_ids, status__in=TASK_OPEN).order_by()
    for row in (open_tasks.filter(due_date__lt=today).values("patient_id")
                .annotate(n=Count("id"), urgent=Count("id", filter=Q(priority__in=caseload.ESCALATING_PRIORITIES)))):
        loads[row["patient_id"]].update(load_overdue_tasks=row["n"], load_overdue_urgent_tasks=row["urgent"])
    # A task due on day D is overdue from D + 1.
    for pid, soonest in open_tasks.filter(due_date__gte=today).values("patient_id").annotate(d=Min("due_date")) \
            .values_list("patient_id", "d"):
        loads[pid]["load_valid_until"] = soonest + dt.timedelta(days=1)
    for pid, n in (Barrier.objects.filter(patient_id__in=patient_ids).exclude(status=BarrierStatus.RESOLVED)
                   .order_by().values("patient_id").annotate(n=Count("id")).values_list("patient_id", "n")):
        loads[pid]["load_open_barriers"] = n
    for values in loads.values():
        values["load_score"] = caseload.urgency(as_patient_load(values))[0]
    return loads


def as_patient_load(values: dict[str, Any], worst_alert: str = "") -> caseload.PatientLoad:
    return caseload.PatientLoad(worst_alert=worst_alert, overdue_tasks=values["load_overdue_tasks"],
                             overdue_urgent_tasks=values["load_overdue_urgent_tasks"],
                             open_barriers=values["load_open_barriers"])


def refresh(patient_ids: Iterable[int], today: dt.date) -> int:
    """Recompute and store the load on the open episodes of these patients; returns episodes written."""
    ids = sorted(set(patient_ids))  # a fixed order, so two refreshes never wait on each other's rows
    written = 0
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        with transaction.atomic():
            # Lock first, then count: a task written meanwhile marks the episode stale after this commits.
            episodes = list(ProgramEpisode.objects.filter(patient_id__in=batch, status__in=OPEN_EPISODE_STATUSES)
                            .order_by("patient_id", "id").select_for_update()
                            .only("pk", "patient_id"))
            loads = compute(batch, today)
            date = connection.ops.adapt_datefield_value
            rows = [(*(loads[ep.patient_id][name] for name in _FIELDS[:-1]), date(loads[ep.patient_id]["load_valid_until"]),
                     False, ep.pk) for ep in episodes]
            with connection.cursor() as cursor:
                # One prepared UPDATE per episode, sent as one batch (bulk_update's CASE expressions cost
                # ~15x more to build); names come from the model, values are bound parameters.
                cursor.executemany(_update_sql(), rows)
            written += len(episodes)
    return written


_FIELDS = ("load_overdue_tasks", "load_overdue_urgent_tasks", "load_open_barriers", "load_score",
           "load_valid_until")


@functools.cache
def _update_sql() -> str:
    qn = connection.ops.quote_name
    sets = ", ".join(f"{qn(name)} = %s" for name in (*_FIELDS, "load_stale"))  # plain fields: column = name
    return f"UPDATE {qn(ProgramEpisode._meta.db_table)} SET {sets} WHERE {qn('id')} = %s"  # noqa: S608 - model names


def refresh_stale(episodes: QuerySet[ProgramEpisode], today: dt.date) -> int:
    """Recompute the stale or expired loads among ``episodes`` (e.g. one navigator's caseload)."""
    stale = list(episodes.filter(expired_q(today)).values_list("patient_id", flat=True).order_by())
    return refresh(stale, today) if stale else 0
