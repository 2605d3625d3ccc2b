"""oncoliaison audit-verify: walk the hash chain; exit 1 naming the first altered record."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from oncoliaison.core.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the audit log's hash chain. Exits non-zero naming the first edited, deleted or reordered record."

    def handle(self, *args: object, **options: object) -> None:
        count, problem = verify_chain()
        if problem is not None:
            self.stderr.write(f"AUDIT LOG TAMPERED: {problem} ({count} records verified before it)")
            sys.exit(1)
        self.stdout.write(f"Audit log intact: {count} records verified.")
