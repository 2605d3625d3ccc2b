"""``oncoliaison run-scheduled-jobs``: run every declared scheduled job once (cron, every minute).

Jobs (``core.schedule``): symptom-alert escalation and report reminders (monitoring), the audit chain's
signed checkpoint (core).  Exits 1 when a job failed — an audit checkpoint refused because the log was
truncated is one — after running the others.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from oncoliaison.core.schedule import run_all


class Command(BaseCommand):
    help = "Run the due scheduled jobs once: alert escalation, report reminders, the audit checkpoint."

    def handle(self, *args: Any, **options: Any) -> None:
        failed = False
        for result in run_all():
            if result.failed:
                failed = True
                self.stderr.write(f"{result.name} FAILED: {result.summary}")
            else:
                self.stdout.write(result.summary)
        if failed:
            sys.exit(1)
