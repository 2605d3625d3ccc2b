"""Benchmark: FHIR Bundle import into the cancer record, beside the raw JSON parse rate of the same files.

    .venv/bin/python benchmarks/fhir_import.py                       # fresh SQLite file (WAL, synchronous=FULL)
    DATABASE_URL=postgres://oncoliaison:oncoliaison@127.0.0.1:5432/oncoliaison \\
        .venv/bin/python benchmarks/fhir_import.py                   # fresh PostgreSQL test database

Input: the 18 Synthea cancer bundles in /work/shared/data/synthea-r4-cancer when present, else the gzipped
copies in tests/fixtures/synthea (the same 18 files).  Every resource counts — Encounters, Claims and the
other types the cancer record does not store are read, reported and skipped, as in production.

Figures:
- parse: orjson.loads of the raw bytes (resources/s);
- import: ``bundle_import`` of the parsed bundles into an empty database (validation with fhir.resources,
  matching, mapping, bulk writes, audit), one transaction per bundle (resources/s);
- end to end: parse + import;
- re-import: the same bundles again (everything "unchanged").
The one-time cost of importing fhir.resources' model classes is paid before timing and shown separately.
"""

from __future__ import annotations

import gzip
import os
import platform
import time
from pathlib import Path

from harness import ROOT, bench_database

SHARED = Path("/work/shared/data/synthea-r4-cancer")
FIXTURES = ROOT / "tests" / "fixtures" / "synthea"


def _inputs() -> tuple[str, list[bytes]]:
    if SHARED.is_dir() and any(SHARED.glob("*.json")):
        return str(SHARED), [p.read_bytes() for p in sorted(SHARED.glob("*.json"))]
    return str(FIXTURES), [gzip.decompress(p.read_bytes()) for p in sorted(FIXTURES.glob("*.json.gz"))]


def main() -> int:
    with bench_database("fhir_import") as vendor:
        import orjson
        from django.db import connection
        from fhir.resources.R4B import get_fhir_model_class

        from oncoliaison.oncology.importing import (
            STORED_TYPES,
            bundle_import,
            system_actor_for,
            validate_resource,
        )
        from oncoliaison.organisations.models import Organization, OrganizationKind

        where, raws = _inputs()
        total_bytes = sum(len(r) for r in raws)

        t0, c0 = time.perf_counter(), time.process_time()
        bundles = [orjson.loads(r) for r in raws]
        parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
        n = sum(len(b.get("entry") or []) for b in bundles)
        stored_types = sum(1 for b in bundles for e in b["entry"] if e["resource"]["resourceType"] in STORED_TYPES)

        t0 = time.perf_counter()
        seen: set[str] = set()
        for b in bundles:  # one-time: import the fhir.resources model classes of every type present
            for e in b["entry"]:
                rtype = e["resource"]["resourceType"]
                if rtype not in seen:
                    seen.add(rtype)
                    if rtype in STORED_TYPES:
                        validate_resource(e["resource"])
                    else:
                        get_fhir_model_class(rtype)  # the import checks that the type exists
        warm_s = time.perf_counter() - t0

        org = Organization.objects.create(slug="bench-lead", name="Benchmark lead program",
                                          kind=OrganizationKind.LEAD_PROGRAM)
        actor = system_actor_for(org.pk, client_id="benchmark")

        t0, c0 = time.perf_counter(), time.process_time()
        results = [bundle_import(actor=actor, bundle=b, source="urn:benchmark:synthea", synthetic=True) for b in bundles]
        import_s, import_cpu = time.perf_counter() - t0, time.process_time() - c0
        rejected = sum(len(r.rejected) for r in results)
        created = sum(sum(r.created.values()) for r in results)
        unsupported = sum(sum(r.unsupported.values()) for r in results)

        t0, c0 = time.perf_counter(), time.process_time()
        again = [bundle_import(actor=actor, bundle=b, source="urn:benchmark:synthea") for b in bundles]
        reimport_s, reimport_cpu = time.perf_counter() - t0, time.process_time() - c0
        changed = sum(r.summary()["imported"] for r in again)

        print(f"input        {where}: {len(raws)} bundles, {n:,} resources ({stored_types:,} of stored types), "
              f"{total_bytes / 1e6:.1f} MB")
        print(f"database     {vendor} ({connection.settings_dict['NAME']})")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine      {platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
              f"load average {load}")
        print("             wall time, rate by wall time | rate by this process's CPU time")
        print(f"parse        {parse_s:6.2f} s  {n / parse_s:8,.0f} resources/s | {n / parse_cpu:8,.0f} /CPU-s"
              f"  (orjson.loads, {total_bytes / 1e6 / parse_s:.0f} MB/s)")
        print(f"import       {import_s:6.2f} s  {n / import_s:8,.0f} resources/s | {n / import_cpu:8,.0f} /CPU-s"
              f"  (created {created:,}, not stored {unsupported:,}, rejected {rejected})")
        print(f"end to end   {parse_s + import_s:6.2f} s  {n / (parse_s + import_s):8,.0f} resources/s")
        print(f"re-import    {reimport_s:6.2f} s  {n / reimport_s:8,.0f} resources/s | {n / reimport_cpu:8,.0f} /CPU-s"
              f"  (changed {changed})")
        print(f"one-time     {warm_s:6.2f} s  loading fhir.resources model classes (not in the rates above)")
        return 0 if rejected == 0 and changed == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
