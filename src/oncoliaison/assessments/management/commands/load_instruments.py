"""oncoliaison load-instruments: load the instrument definitions shipped with OncoLiaison (idempotent)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from oncoliaison.assessments.services import instrument_load, instruments_load_bundled
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Load needs-assessment instruments from JSON definitions: the bundled ones, or the files given. "
        "Instruments that need the owner's permission stay off until a program administrator records it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="Definition files (default: the bundled definitions)")

    def handle(self, *args: object, **options: Any) -> None:
        actor = Actor(kind="system", username="cli:load-instruments")
        files = [Path(str(f)) for f in options["files"]]
        try:
            if files:
                results = [instrument_load(json.loads(f.read_text()), actor=actor, source=f.name) for f in files]
            else:
                results = instruments_load_bundled(actor=actor)
        except (DomainError, OSError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        for r in results:
            self.stdout.write(f"{r.code} {r.version}: {'loaded' if r.created else 'up to date'}")
