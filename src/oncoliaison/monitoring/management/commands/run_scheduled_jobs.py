"""``oncoliaison run-scheduled-jobs``: run the due background jobs once (for cron, e.g. every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from oncoliaison.monitoring.tasks import run_due_jobs


class Command(BaseCommand):
    help = "Run the due scheduled jobs once: escalate overdue symptom alerts, send report reminders."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_due_jobs()
        self.stdout.write(f"escalations: {counts['escalations']}, reminders: {counts['reminders']}")
