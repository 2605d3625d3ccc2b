"""Work queued FHIR Bulk Data exports (when TASKS uses a queue rather than the immediate backend)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run queued FHIR Bulk Data export jobs (each claimed once with a conditional update)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep polling for new jobs.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between polls with --loop.")
        parser.add_argument("--keep-days", type=float, default=7.0,
                            help="Delete the files of exports finished more than this many days ago.")

    def handle(self, *args: Any, **options: Any) -> None:
        from oncoliaison.core import clock
        from oncoliaison.exports.services import jobs_expired_delete, run_queued_jobs

        while True:
            ran = run_queued_jobs()
            purged = jobs_expired_delete(clock.now() - dt.timedelta(days=options["keep_days"]))
            self.stdout.write(f"Ran {ran} export job(s); deleted the files of {purged} old export(s).")
            if not options["loop"]:
                return
            time.sleep(options["interval"])
