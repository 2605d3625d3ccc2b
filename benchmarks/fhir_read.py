"""Benchmark: FHIR Patient read and search through the whole Django stack (middleware, auth, access
rules, audit row, JSON) with Django's test client, one request at a time.

    .venv/bin/python benchmarks/fhir_read.py                       # fresh SQLite file (WAL, synchronous=FULL)
    .venv/bin/python benchmarks/fhir_read.py --reads 2000 --searches 500 --patients 1000
    DATABASE_URL=postgres://oncoliaison:oncoliaison@127.0.0.1:5432/oncoliaison \\
        .venv/bin/python benchmarks/fhir_read.py                   # PostgreSQL (a database of its own)

Each read or search writes its audit row (one per patient disclosed), as in production.  Prints the rate
(requests/s), p50 and p95 latency and the number of SQL statements per request.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from harness import bench_database


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _report(label: str, timings: list[float], cpu: float, statements: int) -> None:
    total = sum(timings)
    print(f"{label:<36} {len(timings) / total:7.0f} req/s  p50 {statistics.median(timings) * 1000:6.2f} ms  "
          f"p95 {_percentile(timings, 95) * 1000:6.2f} ms  | {cpu / len(timings) * 1000:5.2f} ms CPU/request "
          f"({len(timings) / cpu:5.0f} req/CPU-s)  {statements} SQL statements/request")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--searches", type=int, default=500)
    parser.add_argument("--patients", type=int, default=500, help="extra synthetic patients to search among")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the read loop")
    args = parser.parse_args()

    os.environ["DEBUG"] = "0"
    with bench_database("fhir_read"):
        return _run(args)


def patients_load(organization: Any, count: int) -> None:
    """``count`` synthetic patients of ``organization``: given name Given<n>, family name Family<n % 50>, a
    birth date and an MRN each (``benchmarks/fhir_peer.py`` loads the same into the peer)."""
    import datetime as dt

    from oncoliaison.patients.models import Patient, PatientIdentifier

    Patient.objects.bulk_create(
        Patient(organization=organization, given_name=f"Given{n}", family_name=f"Family{n % 50}",
                given_name_search=f"given{n}", family_name_search=f"family{n % 50}",
                birth_date=dt.date(1940 + n % 60, 1 + n % 12, 1 + n % 28), gender="female" if n % 2 else "male",
                synthetic=True)
        for n in range(count)
    )
    PatientIdentifier.objects.bulk_create(
        PatientIdentifier(patient=p, organization=organization, system=organization.mrn_system,
                          value=f"B-{p.pk}", type_code="MR")
        for p in Patient.objects.filter(organization=organization, given_name__startswith="Given")
    )


def _run(args: argparse.Namespace) -> int:
    import orjson
    from django.db import connection
    from django.test import Client

    from oncoliaison.accounts.services import api_client_create, token_issue
    from oncoliaison.patients.models import Patient
    from oncoliaison.testing import make_cast

    cast = make_cast()
    patients_load(cast.lead, args.patients)
    issued = api_client_create(organization=cast.lead, scopes="system/Patient.rs")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    read_url = f"/fhir/Patient/{cast.pat.pk}"
    search = {"family": "family7", "_count": "20"}

    # Warm up (imports, first queries) and check the answers.
    assert client.get(read_url).status_code == 200
    bundle = orjson.loads(client.get("/fhir/Patient", search).content)
    assert bundle["total"] == len([n for n in range(args.patients) if n % 50 == 7]), bundle.get("total")
    statements = [0]

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        statements[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(read_url)
    read_statements, statements[0] = statements[0], 0
    with connection.execute_wrapper(count):
        client.get("/fhir/Patient", search)
    search_statements = statements[0]

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            client.get(read_url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
    reads = []
    cpu0 = time.process_time()
    for _ in range(args.reads):
        start = time.perf_counter()
        response = client.get(read_url)
        reads.append(time.perf_counter() - start)
        assert response.status_code == 200
    read_cpu = time.process_time() - cpu0
    searches = []
    cpu0 = time.process_time()
    for _ in range(args.searches):
        start = time.perf_counter()
        response = client.get("/fhir/Patient", search)
        searches.append(time.perf_counter() - start)
        assert response.status_code == 200
    search_cpu = time.process_time() - cpu0

    print(f"FHIR read benchmark — {connection.vendor}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {Patient.objects.count()} patients")
    print(f"load average at the end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    _report("GET /fhir/Patient/<id>", reads, read_cpu, read_statements)
    _report(f"GET /fhir/Patient?family=… ({bundle['total']} hits)", searches, search_cpu, search_statements)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
