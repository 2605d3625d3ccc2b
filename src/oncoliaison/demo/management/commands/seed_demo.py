"""oncoliaison seed-demo: create the demo program when the database is empty; print the log-ins."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from oncoliaison.core.files import private_dir, write_private_text
from oncoliaison.demo.seed import seed_demo
from oncoliaison.organisations.models import Organization


class Command(BaseCommand):
    help = "Seed the synthetic demo program if the database has no organisations; print demo log-ins."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--patients", type=int, default=40)

    def handle(self, *args: object, **options: Any) -> None:
        logins_file = Path(settings.VAR_DIR) / "demo-logins.txt"
        if Organization.objects.exists():
            self.stdout.write("Database already has data; not seeding.")
        else:
            logins = seed_demo(patients=int(options["patients"]))
            private_dir(logins_file.parent)
            write_private_text(logins_file, "".join(f"{u:<14} {p}\n" for u, p in logins.items()))
            self.stdout.write(f"Seeded the demo program (synthetic data) with {options['patients']} patients.")
        if logins_file.exists():
            self.stdout.write("\nDemo log-ins (user name, password):\n" + logins_file.read_text())
