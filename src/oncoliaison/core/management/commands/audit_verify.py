"""oncoliaison audit-verify: walk the hash chain and compare it with the latest signed checkpoint.

Exit codes: 0 intact (and consistent with the latest checkpoint); 1 tampered — the message names the
first edited, deleted or reordered record, a sequence gap, or the range missing against the checkpoint
(a truncated or wiped log), or a checkpoint line that was edited, removed or forged; 2 the chain is intact
but there is no checkpoint to compare it with, so truncation cannot be ruled out.
"""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from oncoliaison.core.checkpoints import checkpoint_path, verify_log

TAMPERED, UNANCHORED = 1, 2


class Command(BaseCommand):
    help = ("Verify the audit log's hash chain against the latest signed checkpoint. Exits 1 naming the first "
            "edited, deleted or reordered record or the missing range; 2 when no checkpoint exists yet.")

    def handle(self, *args: object, **options: object) -> None:
        result = verify_log()
        if not result.intact:
            self.stderr.write(f"AUDIT LOG TAMPERED: {result.problem} ({result.count:,} records verified)")
            sys.exit(TAMPERED)
        cp = result.checkpoint
        if cp is None:
            if result.count == 0:
                self.stdout.write("Audit log intact: 0 records verified (no checkpoint yet).")
                return
            self.stderr.write(
                f"Audit log chain intact: {result.count:,} records verified, but there is no checkpoint in "
                f"{checkpoint_path()} to compare it with, so records cut from its end would not show. "
                "Run `oncoliaison audit-checkpoint` (and `run-scheduled-jobs` every minute)."
            )
            sys.exit(UNANCHORED)
        since = result.count - cp.count
        tail = f"; {since:,} written since, covered by the chain" if since else ""
        self.stdout.write(f"Audit log intact: {result.count:,} records verified; the latest checkpoint "
                          f"({cp.n:,}, {cp.when}) counted {cp.count:,}{tail}.")
