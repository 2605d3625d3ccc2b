"""Benchmark: FHIR Bulk Data $export of the cancer record, beside the orjson parse rate of its output.

    .venv/bin/python benchmarks/fhir_export.py [--copies N]          # fresh SQLite file
    DATABASE_URL=postgres://oncoliaison:oncoliaison@127.0.0.1:5432/oncoliaison \\
        .venv/bin/python benchmarks/fhir_export.py [--copies N]      # fresh PostgreSQL test database

Setup (not timed): the 18 Synthea cancer bundles (tests/fixtures/synthea) are imported ``--copies`` times
(default 5) under distinct source namespaces, as if several systems had sent the same patients: the
patients are matched by identifier, and each copy adds its own records, so the record is N times larger.

Figures:
- kick-off: ``GET /fhir/$export`` through Django's test client with a real bearer token (the immediate tasks
  backend runs the job inside the request: query, render with the mappers, orjson, write NDJSON, audit one
  EXPORT row per patient);
- export: the same job run again directly (``export_job_run``), resources/s by wall and by CPU time;
- parse: ``orjson.loads`` of every NDJSON line written (resources/s), the ceiling for any JSON producer;
- the output is checked: line counts equal the manifest, every line parses.
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import time

from harness import ROOT, bench_database

FIXTURES = ROOT / "tests" / "fixtures" / "synthea"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=5)
    args = parser.parse_args()
    with bench_database("fhir_export", own_var_dir=True) as vendor:
        import orjson
        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from oncoliaison.accounts.services import api_client_create, token_issue
        from oncoliaison.exports.models import ExportJob, ExportStatus
        from oncoliaison.exports.services import export_job_run, job_dir
        from oncoliaison.oncology.fhir import common as oncology_fhir
        from oncoliaison.oncology.importing import bundle_import, system_actor_for
        from oncoliaison.organisations.models import Organization, OrganizationKind

        settings.ALLOWED_HOSTS = ["*"]
        bundles = [orjson.loads(gzip.decompress(p.read_bytes())) for p in sorted(FIXTURES.glob("*.json.gz"))]
        org = Organization.objects.create(slug="bench-lead", name="Benchmark lead program",
                                          kind=OrganizationKind.LEAD_PROGRAM)
        actor = system_actor_for(org.pk, client_id="benchmark")
        t0 = time.perf_counter()
        for copy in range(args.copies):
            for b in bundles:
                bundle_import(actor=actor, bundle=b, source=f"urn:benchmark:synthea:{copy}", synthetic=True)
        setup_s = time.perf_counter() - t0

        issued = api_client_create(organization=org, scopes="system/*.rs")
        token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
        client = Client()
        t0, c0 = time.perf_counter(), time.process_time()
        response = client.get("/fhir/$export", headers={"Authorization": f"Bearer {token}",
                                                          "Prefer": "respond-async"})
        kick_s, kick_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert response.status_code == 202, response.content
        status = client.get(response["Content-Location"].split("testserver", 1)[1],
                            headers={"Authorization": f"Bearer {token}"})
        assert status.status_code == 200, status.content
        manifest = orjson.loads(status.content)
        n = sum(o["count"] for o in manifest["output"])

        job = ExportJob.objects.get()
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.QUEUED)
        oncology_fhir._instants.clear()  # no head start from the first run's remembered timestamps
        t0, c0 = time.perf_counter(), time.process_time()
        if os.environ.get("BENCH_PROFILE"):
            import cProfile
            import pstats

            with cProfile.Profile() as prof:
                export_job_run(job.pk)
            pstats.Stats(prof).sort_stats("tottime").print_stats(25)
        else:
            export_job_run(job.pk)
        run_s, run_cpu = time.perf_counter() - t0, time.process_time() - c0
        job.refresh_from_db()

        files = [job_dir(job) / o["file"] for o in job.output]
        raw = [f.read_bytes() for f in files]
        total_bytes = sum(len(r) for r in raw)
        t0, c0 = time.perf_counter(), time.process_time()
        parsed = 0
        for blob in raw:
            for line in blob.splitlines():
                orjson.loads(line)
                parsed += 1
        parse_s, parse_cpu = time.perf_counter() - t0, time.process_time() - c0
        assert parsed == n == sum(o["count"] for o in job.output)

        print(f"data         {args.copies} x 18 Synthea bundles imported in {setup_s:.0f} s (not timed); "
              f"{job.patient_count} patients, {n:,} resources, {total_bytes / 1e6:.1f} MB NDJSON")
        print("             " + ", ".join(f"{o['type']} {o['count']:,}" for o in job.output))
        print(f"database     {vendor} ({connection.settings_dict['NAME']})")
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"machine      {platform.machine()}, {os.cpu_count()} CPU, Python {platform.python_version()}, "
              f"load average {load}")
        print("             wall time, rate by wall time | rate by this process's CPU time")
        print(f"kick-off     {kick_s:6.2f} s  {n / kick_s:8,.0f} resources/s | {n / kick_cpu:8,.0f} /CPU-s"
              "  (GET $export, job run inside the request)")
        print(f"export       {run_s:6.2f} s  {n / run_s:8,.0f} resources/s | {n / run_cpu:8,.0f} /CPU-s"
              "  (export_job_run: query, render, NDJSON, audit)")
        print(f"parse        {parse_s:6.2f} s  {n / parse_s:8,.0f} resources/s | {n / parse_cpu:8,.0f} /CPU-s"
              f"  (orjson.loads of each line, {total_bytes / 1e6 / parse_s:.0f} MB/s)")
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
