"""oncoliaison list-organizations [--json]: the network's organisations (short name, name, kind)."""

from __future__ import annotations

import orjson
from django.core.management.base import BaseCommand, CommandParser

from oncoliaison.organisations.models import Organization


class Command(BaseCommand):
    help = "List the organisations of the network: short name (slug), name and kind."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print a JSON array instead of a table.")
        parser.add_argument("--all", action="store_true", help="Include inactive organisations.")

    def handle(self, *args: object, **options: object) -> None:
        qs = Organization.objects.order_by("name")
        if not options["all"]:
            qs = qs.filter(active=True)
        rows = [{"slug": o.slug, "name": o.name, "kind": o.kind, "active": o.active} for o in qs]
        if options["json"]:
            self.stdout.write(orjson.dumps(rows).decode())
            return
        if not rows:
            self.stdout.write("No organisations yet. Run: oncoliaison seed-demo")
            return
        widths = [max(len(h), *(len(str(r[k])) for r in rows)) for h, k in (("SLUG", "slug"), ("NAME", "name"),
                                                                             ("KIND", "kind"))]

        def line(*cells: str) -> str:
            return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()

        self.stdout.write(line("SLUG", "NAME", "KIND"))
        for r in rows:
            self.stdout.write(line(str(r["slug"]), str(r["name"]), str(r["kind"])))
