"""oncoliaison audit-checkpoint: write a signed checkpoint of the audit chain now (see core.checkpoints)."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from oncoliaison.core.checkpoints import CheckpointError, checkpoint_path, write_checkpoint


class Command(BaseCommand):
    help = ("Append a signed checkpoint of the audit chain (shard heads, record count, time) to "
            "AUDIT_CHECKPOINT_FILE and the oncoliaison.audit.checkpoint log. Exits 1, writing nothing, when "
            "the log no longer extends the latest checkpoint.")

    def handle(self, *args: object, **options: object) -> None:
        try:
            cp = write_checkpoint(force=True)
        except CheckpointError as exc:
            self.stderr.write(f"AUDIT LOG TAMPERED — no checkpoint written: {exc}")
            sys.exit(1)
        assert cp is not None
        self.stdout.write(f"Checkpoint {cp.n:,} written to {checkpoint_path()}: {cp.count:,} records.")
