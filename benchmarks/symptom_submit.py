"""Benchmark: symptom report submission (scores + alert rules + audit committed) and FHIR batch ingest.

    .venv/bin/python benchmarks/symptom_submit.py                  # fresh SQLite file (WAL, synchronous=FULL)
    .venv/bin/python benchmarks/symptom_submit.py --postgres       # PostgreSQL on 127.0.0.1:5432, own database
    .venv/bin/python benchmarks/symptom_submit.py --reports 3000 --batches 10 --batch-size 500

1. ``report_submit`` in process, one report per call, each in its own transaction with its audit row:
   ESAS-r answers (a random walk per patient, so the worsening / new-symptom rules compare with the previous
   report, and about a fifth of reports raise an alert).  Prints p50 / p95 / p99 / max latency.
2. ``questionnaire_responses_ingest``: batches of FHIR QuestionnaireResponse JSON (as in a batch Bundle),
   each validated with fhir.resources R4B, translated, scored and stored in one transaction per batch.
   Prints QuestionnaireResponses per second.

``--postgres`` creates (or empties) the database ``oncoliaison_bench_symptoms`` owned by the role
oncoliaison; nothing else on the server is touched.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_DB = "oncoliaison_bench_symptoms"
PG_DSN = "postgres://oncoliaison:oncoliaison@127.0.0.1:5432/"


def _pct(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def _prepare_postgres() -> None:
    import psycopg

    with psycopg.connect(PG_DSN + "oncoliaison", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_DB}")
        conn.execute(f"CREATE DATABASE {PG_DB}")
    os.environ["DATABASE_URL"] = PG_DSN + PG_DB


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=2000)
    parser.add_argument("--patients", type=int, default=400)
    parser.add_argument("--batches", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one ingest batch")
    args = parser.parse_args()

    tmp = None
    if args.postgres:
        _prepare_postgres()
    elif not os.environ.get("DATABASE_URL"):
        tmp = tempfile.TemporaryDirectory(prefix="oncoliaison-bench-")
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp.name}/bench.sqlite3"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oncoliaison.settings")
    os.environ.setdefault("ONCOLIAISON_ENV", "test")
    os.environ["DEBUG"] = "0"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    sys.path.insert(0, str(ROOT / "src"))

    import datetime as dt

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from oncoliaison.core import clock
    from oncoliaison.core.actor import Actor
    from oncoliaison.core.scopes import ScopeSet
    from oncoliaison.instruments.models import Instrument
    from oncoliaison.instruments.selectors import QUESTIONNAIRE_BASE
    from oncoliaison.monitoring import services
    from oncoliaison.monitoring.fhir.responses import questionnaire_responses_ingest
    from oncoliaison.monitoring.models import Alert, SymptomReport
    from oncoliaison.patients.models import Patient
    from oncoliaison.testing import make_cast

    call_command("migrate", interactive=False, verbosity=0)
    cast = make_cast()
    Patient.objects.bulk_create([
        Patient(organization=cast.lead, given_name=f"Given{n}", family_name=f"Family{n}", given_name_search=f"given{n}",
                family_name_search=f"family{n}", birth_date=dt.date(1950 + n % 40, 1 + n % 12, 1 + n % 28),
                gender="female" if n % 2 else "male", synthetic=True)
        for n in range(args.patients)
    ])
    patients = list(Patient.objects.filter(organization=cast.lead).select_related("organization"))
    esas = Instrument.objects.get(code="esas-r")
    nurse = cast.actor(cast.navigator)
    rng = random.Random(7)
    level = {p.pk: [rng.randint(0, 4) for _ in range(9)] for p in patients}
    start = clock.now() - dt.timedelta(days=60)

    def answers_for(pid: int) -> dict[str, int]:
        walk = level[pid]
        for i in range(9):
            walk[i] = max(0, min(8, walk[i] + rng.choice((-1, -1, 0, 0, 0, 0, 1, 1, 2))))
        return {f"esas-{i}": v for i, v in enumerate(walk, start=1)}

    # warm-up (instrument definitions, query compilation)
    for p in patients[:20]:
        services.report_submit(actor=nurse, patient=p, instrument=esas, answers=answers_for(p.pk), source="phone",
                               authored_at=start)

    timings: list[float] = []
    cpu: list[float] = []
    with CaptureQueriesContext(connection) as queries:
        services.report_submit(actor=nurse, patient=patients[0], instrument=esas,
                               answers=answers_for(patients[0].pk), source="phone",
                               authored_at=start + dt.timedelta(minutes=1))
    statements = len(queries)
    alerts_before = Alert.objects.count()
    for n in range(args.reports):
        p = patients[n % len(patients)]
        authored = start + dt.timedelta(minutes=2 + n)
        answers = answers_for(p.pk)
        t0, c0 = time.perf_counter(), time.process_time()
        services.report_submit(actor=nurse, patient=p, instrument=esas, answers=answers, source="phone",
                               authored_at=authored)
        timings.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    alerts = Alert.objects.count() - alerts_before

    vendor = connection.vendor
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU, Python "
          f"{platform.python_version()}, database {vendor}")
    print(f"report_submit x{args.reports} ({alerts} alerts raised): "
          f"p50 {statistics.median(timings) * 1000:.2f} ms  p95 {_pct(timings, 95) * 1000:.2f} ms  "
          f"p99 {_pct(timings, 99) * 1000:.2f} ms  max {max(timings) * 1000:.2f} ms  "
          f"({statements} SQL statements per report)")
    print(f"  CPU time of this process per report: p50 {statistics.median(cpu) * 1000:.2f} ms  "
          f"p99 {_pct(cpu, 99) * 1000:.2f} ms;  load average at end {os.getloadavg()[0]:.1f}")

    client = Actor(kind="system", client_id="bench", client_organization_id=cast.lead.pk,
                   memberships=((cast.lead.pk, "system", cast.lead.kind),),
                   scopes=ScopeSet.parse("system/QuestionnaireResponse.cr"))
    later = start + dt.timedelta(days=10)
    rates: list[float] = []
    cpu_rates: list[float] = []
    stored = 0
    for b in range(args.batches):
        resources = []
        for k in range(args.batch_size):
            p = patients[(b * args.batch_size + k) % len(patients)]
            when = later + dt.timedelta(minutes=b * args.batch_size + k)
            resources.append({
                "resourceType": "QuestionnaireResponse", "status": "completed",
                "identifier": {"system": "urn:bench", "value": f"b{b}-{k}"},
                "questionnaire": f"{QUESTIONNAIRE_BASE}/esas-r", "subject": {"reference": f"Patient/{p.pk}"},
                "authored": when.isoformat(),
                "item": [{"linkId": k2, "answer": [{"valueInteger": v}]} for k2, v in answers_for(p.pk).items()],
            })
        t0, c0 = time.perf_counter(), time.process_time()
        if args.profile and b == 0:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            outcomes = prof.runcall(questionnaire_responses_ingest, client, resources)
            pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
        else:
            outcomes = questionnaire_responses_ingest(client, resources)
        elapsed = time.perf_counter() - t0
        cpu_rates.append(len(resources) / (time.process_time() - c0))
        ok = sum(1 for o in outcomes if isinstance(o, SymptomReport))
        stored += ok
        rates.append(ok / elapsed)
    print(f"FHIR batch ingest: {args.batches} batches of {args.batch_size} QuestionnaireResponses: "
          f"median {statistics.median(rates):.0f} QR/s, min {min(rates):.0f} QR/s ({stored} stored); "
          f"by this process's CPU time {statistics.median(cpu_rates):.0f} QR/s; load average {os.getloadavg()[0]:.1f}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
