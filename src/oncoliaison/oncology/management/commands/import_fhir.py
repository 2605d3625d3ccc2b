"""oncoliaison import-fhir FILE_OR_DIR…: import FHIR Bundles / NDJSON into the cancer record.

    oncoliaison import-fhir referrals/2026-11/ --organization riverside-cancer-institute \\
        --source https://fhir.st-brendan.example.org/

Reads Bundle JSON (transaction, batch or collection), single resources and NDJSON (as written by FHIR Bulk
Data export), optionally gzip-compressed (.gz); directories are walked recursively, Patient files first so
that later files can refer to them.  Runs as a system actor of the organisation (every write audited,
channel "cli").  Ends with a summary table; exits 1 when anything was rejected.
"""

from __future__ import annotations

import gzip
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from oncoliaison.core.errors import DomainError
from oncoliaison.oncology.importfiles import bundles_from_bytes
from oncoliaison.oncology.importing import bundle_import, system_actor_for
from oncoliaison.oncology.importplan import ImportResult
from oncoliaison.organisations.models import Organization, OrganizationKind

SUFFIXES = (".json", ".ndjson", ".json.gz", ".ndjson.gz")
PROGRESS_THRESHOLD = 50  # resources
NDJSON_CHUNK = 5000  # resources per collection Bundle when reading NDJSON
MAX_LISTED = 50


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(f for f in p.rglob("*") if f.is_file() and f.name.endswith(SUFFIXES))
        elif p.is_file():
            found.append(p)
        else:
            raise CommandError(f"No such file or directory: {raw}")

    def order(f: Path) -> tuple[int, str]:
        name = f.name.lower()
        rank = 0 if name.startswith("patient") else 1 if name.startswith("condition") else 2
        return rank, str(f)

    return sorted(dict.fromkeys(found), key=order)


def _read(path: Path) -> bytes:
    raw = path.read_bytes()
    return gzip.decompress(raw) if path.name.endswith(".gz") else raw


def _plain_name(path: Path) -> str:
    return path.name[:-3] if path.name.endswith(".gz") else path.name


def _bundles(path: Path, raw: bytes) -> Iterator[dict[str, Any]]:
    for bundle in bundles_from_bytes(raw, name=_plain_name(path)):
        entries = bundle.get("entry") or []
        if bundle.get("type") == "collection" and len(entries) > NDJSON_CHUNK and not bundle.get("id"):
            for start in range(0, len(entries), NDJSON_CHUNK):
                yield {**bundle, "entry": entries[start:start + NDJSON_CHUNK]}
        else:
            yield bundle


def _count(path: Path, raw: bytes) -> int:
    if _plain_name(path).endswith(".ndjson"):
        return sum(1 for line in raw.splitlines() if line.strip())
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return 0
    return len(doc.get("entry") or []) if isinstance(doc, dict) and doc.get("resourceType") == "Bundle" else 1


class Command(BaseCommand):
    help = ("Import FHIR R4 Bundles or NDJSON (mCODE / US Core) into the cancer record. "
            "Exits 1 when any resource was rejected.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", metavar="FILE_OR_DIR")
        parser.add_argument("--organization", metavar="SLUG",
                            help="Organisation the records belong to (default: the lead program).")
        parser.add_argument("--source", default="",
                            help="URI of the sending system; the same resources from the same source import "
                                 "once (default: urn:oncoliaison:import:<organisation>).")
        parser.add_argument("--synthetic", action="store_true",
                            help="Mark newly registered patients as synthetic (test or demo data).")
        parser.add_argument("--no-progress", action="store_true",
                            help="Never show the progress bar (it shows on a terminal for more than "
                                 f"{PROGRESS_THRESHOLD} resources).")

    def handle(self, *args: Any, **options: Any) -> None:
        org = self._organization(options.get("organization"))
        source = options["source"] or f"urn:oncoliaison:import:{org.slug}"
        actor = system_actor_for(org.pk, client_id="cli:import-fhir")
        files = _files(options["paths"])
        if not files:
            raise CommandError("No .json, .ndjson (or .gz) files found.")
        # Up to 1,000 files are read once and counted so the bar knows its end; beyond that it counts up.
        raws = {f: _read(f) for f in files} if len(files) <= 1000 else None
        total = sum(_count(f, raw) for f, raw in raws.items()) if raws is not None else None
        show = (not options["no_progress"] and sys.stderr.isatty()
                and (total is None or total > PROGRESS_THRESHOLD))
        result = ImportResult()
        file_errors: list[str] = []
        rejected: list[str] = []
        with tqdm(total=total, unit="res", disable=not show, file=sys.stderr, dynamic_ncols=True) as bar:
            for path in files:
                raw = raws.pop(path) if raws is not None else _read(path)
                try:
                    bundles = list(_bundles(path, raw))
                except (ValueError, orjson.JSONDecodeError) as exc:
                    file_errors.append(f"{path}: not readable FHIR JSON ({exc})")
                    bar.update(_count(path, raw))
                    continue
                for n, bundle in enumerate(bundles):
                    try:
                        one = bundle_import(actor=actor, bundle=bundle, source=source,
                                            organization_id=org.pk, synthetic=options["synthetic"], channel="cli")
                    except DomainError as exc:
                        file_errors.append(f"{path}: {exc.message}")
                        bar.update(len(bundle.get("entry") or []))
                        continue
                    where = f"{path}" + (f" (part {n + 1})" if len(bundles) > 1 else "")
                    rejected.extend(f"{where} entry {i.index} {i.resource_type}"
                                    f"{'/' + i.resource_id if i.resource_id else ''}: {i.reason}"
                                    for i in one.rejected)
                    if one.rejected and one.bundle_type == "transaction":
                        rejected.append(f"{where}: transaction not stored (all or nothing)")
                    result.merge(one)
                    bar.update(len(bundle.get("entry") or []))
        self._summary(result, rejected, file_errors, len(files))
        if result.rejected or file_errors:
            sys.exit(1)

    def _organization(self, slug: str | None) -> Organization:
        if slug:
            org = Organization.objects.filter(slug=slug, active=True).first()
            if org is None:
                raise CommandError(f"No active organisation with slug '{slug}'.")
        else:
            leads = list(Organization.objects.filter(kind=OrganizationKind.LEAD_PROGRAM, active=True)[:2])
            if len(leads) != 1:
                raise CommandError("Name the organisation with --organization SLUG.")
            org = leads[0]
        if not org.delivers_care:
            raise CommandError("Patient records can be imported only into a lead program or partner hospital.")
        return org

    def _summary(self, result: ImportResult, rejected: list[str], file_errors: list[str], n_files: int) -> None:
        out = self.stdout
        rejected_by_type = Counter(i.resource_type or "(none)" for i in result.rejected)
        types = sorted(set(result.created) | set(result.updated) | set(result.unchanged) | set(rejected_by_type)
                       | set(result.unsupported) | set(result.supporting))
        out.write("")
        out.write(f"{'Resource type':<26}{'created':>9}{'updated':>9}{'unchanged':>11}{'rejected':>10}"
                  f"{'not stored':>12}")
        for t in types:
            not_stored = result.unsupported[t] + result.supporting[t]
            out.write(f"{t:<26}{result.created[t]:>9}{result.updated[t]:>9}{result.unchanged[t]:>11}"
                      f"{rejected_by_type[t]:>10}{not_stored:>12}")
        s = result.summary()
        out.write(f"{'Total':<26}{s['created']:>9}{s['updated']:>9}{s['unchanged']:>11}{s['rejected']:>10}"
                  f"{s['unsupported'] + sum(result.supporting.values()):>12}")
        out.write("")
        out.write(f"Files: {n_files}.  Imported: {s['imported']}.  Unchanged: {s['unchanged']}.  "
                  f"Rejected: {s['rejected']}.  Queued for review: {s['queued_for_review']}"
                  f"{' (review ids ' + ', '.join(map(str, sorted(set(result.review_ids)))) + ')' if result.review_ids else ''}."
                  f"  Patients registered: {result.patients_created}, linked: {result.patients_linked}.")
        if result.unsupported:
            out.write("Not stored (types the cancer record does not hold): "
                      + ", ".join(f"{t} {n}" for t, n in sorted(result.unsupported.items())))
        problems = file_errors + rejected
        if problems:
            self.stderr.write("Rejected:")
            for line in problems[:MAX_LISTED]:
                self.stderr.write(f"  {line}")
            if len(problems) > MAX_LISTED:
                self.stderr.write(f"  … and {len(problems) - MAX_LISTED} more")
