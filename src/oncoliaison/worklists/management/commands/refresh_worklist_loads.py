"""oncoliaison refresh-worklist-loads: recompute the task and barrier load stored on every open program
episode (what navigators' worklists rank by).  Worklists recompute stale loads themselves as they read;
run this after loading tasks in bulk outside the application (SQL, restores), or nightly to keep reads
at their quickest."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandParser

from oncoliaison.careplans import workload
from oncoliaison.core import clock
from oncoliaison.programs.models import OPEN_EPISODE_STATUSES, ProgramEpisode


class Command(BaseCommand):
    help = "Recompute the worklist load (overdue tasks, open barriers) of every open program episode."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stale-only", action="store_true",
                            help="Only episodes whose load is stale or expired today.")

    def handle(self, *args: object, **options: object) -> None:
        today = clock.today()
        episodes = ProgramEpisode.objects.filter(status__in=OPEN_EPISODE_STATUSES)
        if options["stale_only"]:
            episodes = episodes.filter(workload.expired_q(today))
        started = time.perf_counter()
        written = workload.refresh(episodes.values_list("patient_id", flat=True).distinct(), today)
        self.stdout.write(f"Refreshed the worklist load of {written} open episodes in "
                          f"{time.perf_counter() - started:.1f} s.")
