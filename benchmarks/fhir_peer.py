"""Benchmark: OncoLiaison's FHIR API side by side with a peer FHIR server, both served as in production.

    .venv/bin/python benchmarks/fhir_peer.py                       # or: make bench-peer
    .venv/bin/python benchmarks/fhir_peer.py --duration 5 --rounds 1 --patients 2000   # a quick look
    DATABASE_URL=postgres://oncoliaison:oncoliaison@127.0.0.1:5432/oncoliaison \
        .venv/bin/python benchmarks/fhir_peer.py                   # OncoLiaison on a PostgreSQL database of its own

- The peer is ``sekmet-fhir`` 0.1.1 from PyPI, installed in a virtual environment of its own under
  ``var/bench-peer/`` (never the project's), served by uvicorn (``sekmet.main:app_factory``) with a static
  bearer token and its inbound traffic log off (its documented setting for load runs).
- OncoLiaison is served by gunicorn exactly as ``make run`` does (``-c python:oncoliaison.gunicorn_conf``,
  DEBUG off), on a fresh embedded SQLite file (``benchmarks/harness.py``; or PostgreSQL), with a bearer
  token issued by its token endpoint's service, as an EHR would call it: every read and search is audited
  (one row per patient disclosed, committed before the response).
- Both get the same synthetic patients (given ``Given<n>``, family ``Family<n % 50>``, an MRN each), the
  same number of workers (``--workers``, 2) and the same load: wrk (or oha) with 8 connections for
  ``--duration`` seconds per case, servers alternating, ``--rounds`` rounds (3); the medians of req/s and
  p99 and the ratio OncoLiaison / peer are printed for read by id, search by family name (``_count=20``)
  and create.  Non-2xx answers fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fhir_read import patients_load
from harness import ROOT, bench_database

PEER = "sekmet-fhir==0.1.1"
CREATE_BODY = {"resourceType": "Patient", "active": True,
               "name": [{"use": "official", "family": "Created", "given": ["Bench"]}],
               "gender": "female", "birthDate": "1970-01-01"}

# The peer's loader runs in the peer's own interpreter, through its own store API.
PEER_LOADER = r"""
import json, sys
from sekmet.fhir.store import Store
db, count, mrn_system = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = Store(db)
first = None
with store.transaction():
    for n in range(count):
        res = store.create({
            "resourceType": "Patient", "active": True,
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "MR"}]}, "system": mrn_system, "value": f"B-{n}"}],
            "name": [{"use": "official", "family": f"Family{n % 50}", "given": [f"Given{n}"]}],
            "gender": "female" if n % 2 else "male",
            "birthDate": f"{1940 + n % 60}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        })
        first = first or res["id"]
print(json.dumps({"read_id": first}))
"""


@dataclass
class Server:
    name: str
    base: str  # http://127.0.0.1:port/fhir
    token: str
    read_id: str
    process: subprocess.Popen[bytes] | None = None


@dataclass(frozen=True)
class Result:
    rps: float
    p99_ms: float
    cpu_ms: float = 0.0  # CPU time of the server's processes (all workers) per request
    failed: int = 0  # requests without an answer (timeouts, socket errors)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _peer_python(work: Path) -> Path:
    venv = work / "peer-venv"
    python = venv / "bin" / "python"
    marker = venv / ".installed-sekmet-0.1.1"
    if not marker.exists():
        print(f"installing {PEER} into {venv} (its own virtual environment)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", PEER], check=True)
        marker.touch()
    return python


def _load_oncoliaison(patients: int) -> tuple[str, str, str]:
    """The cast and the patients as benchmarks/fhir_read.py loads them; a token for reads, searches and
    creates; the id to read; the lead organisation's MRN system."""
    from django.db import connection

    from oncoliaison.accounts.services import api_client_create, token_issue
    from oncoliaison.patients.models import Patient
    from oncoliaison.testing import make_cast

    cast = make_cast()
    patients_load(cast.lead, patients)
    issued = api_client_create(organization=cast.lead, scopes="system/Patient.crs")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    read_id = str(Patient.objects.filter(given_name="Given0").values_list("pk", flat=True).get())
    connection.close()
    return token, read_id, cast.lead.mrn_system


def _server_env() -> dict[str, str]:
    """The environment of ``make run`` (no test settings), on the benchmark's own database."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k != "ONCOLIAISON_ENV"}
    if connection.vendor != "sqlite":
        db = connection.settings_dict
        env["DATABASE_URL"] = (f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
                               f"{db['PORT'] or 5432}/{db['NAME']}")
    return {**env, "DEBUG": "0", "PYTHONPATH": str(ROOT / "src")}


def _wait_up(server: Server, log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process is not None and server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited at start-up; see {log}")
        try:
            request = urllib.request.Request(f"{server.base}/Patient/{server.read_id}",
                                             headers={"Authorization": f"Bearer {server.token}"})
            with urllib.request.urlopen(request, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"{server.name} did not answer within 60 s; see {log}")


def _start_oncoliaison(work: Path, token: str, read_id: str, workers: int) -> Server:
    port = _free_port()
    server = Server("OncoLiaison", f"http://127.0.0.1:{port}/fhir", token, read_id)
    log = work / "oncoliaison-server.log"
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server.process = subprocess.Popen(
        [str(gunicorn), "-c", "python:oncoliaison.gunicorn_conf"],
        env={**_server_env(), "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)},
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    _wait_up(server, log)
    return server


def _start_peer(work: Path, python: Path, patients: int, workers: int, mrn_system: str) -> Server:
    db = work / "peer.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    print(f"loading {patients:,} patients into the peer", flush=True)
    loaded = subprocess.run([str(python), "-c", PEER_LOADER, str(db), str(patients), mrn_system],
                            check=True, capture_output=True, text=True, cwd=work)
    read_id = json.loads(loaded.stdout.strip().splitlines()[-1])["read_id"]
    port = _free_port()
    token = "bench-" + os.urandom(16).hex()
    config = work / "peer-settings.json"  # YAML is a superset of JSON
    config.write_text(json.dumps({
        "base_url": f"http://127.0.0.1:{port}/fhir", "host": "127.0.0.1", "port": port, "db_path": str(db),
        "data_dir": str(work / "peer-data"), "log_inbound": False,
        "server_auth": {"types": ["bearer"], "tokens": [token]},
    }))
    server = Server("peer (sekmet-fhir 0.1.1)", f"http://127.0.0.1:{port}/fhir", token, read_id)
    log = work / "peer-server.log"
    server.process = subprocess.Popen(
        [str(python), "-m", "uvicorn", "sekmet.main:app_factory", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(workers)],
        env={**os.environ, "SEKMET_CONFIG": str(config)}, cwd=work,
        stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    _wait_up(server, log)
    return server


def _stop(server: Server) -> None:
    if server.process is not None and server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)


def _lua(work: Path, server: Server, case: str) -> Path:
    script = work / f"wrk-{case}-{abs(hash(server.base))}.lua"
    lines = [f'wrk.headers["Authorization"] = "Bearer {server.token}"',
             'wrk.headers["Accept"] = "application/fhir+json"']
    if case == "create":
        lines += ['wrk.method = "POST"', 'wrk.headers["Content-Type"] = "application/fhir+json"',
                  f"wrk.body = [[{json.dumps(CREATE_BODY)}]]"]
    script.write_text("\n".join(lines) + "\n")
    return script


def _url(server: Server, case: str) -> str:
    if case == "read":
        return f"{server.base}/Patient/{server.read_id}"
    if case == "search":
        return f"{server.base}/Patient?family=Family7&_count=20"
    return f"{server.base}/Patient"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
LoadRun = Callable[[Path, Server, str, argparse.Namespace, int], Result]


def _server_cpu(server: Server) -> float:
    """Seconds of CPU (user + system) used so far by the server's processes: its session's master and
    workers.  Less sensitive than req/s to other load on the host."""
    assert server.process is not None
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == server.process.pid:  # process group: the session started for the server
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def _measured(run_load: LoadRun, work: Path, server: Server, case: str, args: argparse.Namespace,
              duration: int) -> Result:
    cpu = _server_cpu(server)
    result = run_load(work, server, case, args, duration)
    cpu = _server_cpu(server) - cpu
    return Result(result.rps, result.p99_ms, cpu / max(result.rps * duration, 1) * 1000, result.failed)


def _run_wrk(work: Path, server: Server, case: str, args: argparse.Namespace, duration: int) -> Result:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{args.connections}", f"-d{duration}s", "--latency", "-s", str(_lua(work, server, case)),
         _url(server, case)], check=True, capture_output=True, text=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{server.name} {case}: error answers under load\n{out}")
    # Requests wrk gave up on (no answer within its 2 s timeout) are counted, not fatal: a server's own result.
    failed = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", out).groups()  # type: ignore[union-attr]
    return Result(rps, float(value) * _UNITS[unit], failed=failed)


def _run_oha(work: Path, server: Server, case: str, args: argparse.Namespace, duration: int) -> Result:
    command = ["oha", "--no-tui", "--json", "-c", str(args.connections), "-z", f"{duration}s",
               "-H", f"Authorization: Bearer {server.token}", "-H", "Accept: application/fhir+json"]
    if case == "create":
        command += ["-m", "POST", "-T", "application/fhir+json", "-d", json.dumps(CREATE_BODY)]
    report = json.loads(subprocess.run([*command, _url(server, case)], check=True, capture_output=True,
                                       text=True).stdout)
    statuses = report.get("statusCodeDistribution", {})
    if any(not code.startswith("2") for code in statuses):
        raise SystemExit(f"{server.name} {case}: errors under load: {statuses}")
    return Result(float(report["summary"]["requestsPerSec"]), float(report["latencyPercentiles"]["p99"]) * 1000)


def _serve_and_load(args: argparse.Namespace, run_load: LoadRun, cases: list[str], token: str, read_id: str,
                    mrn_system: str, peer_python: Path) -> tuple[list[Server], dict[tuple[str, str], list[Result]],
                                                                list[float]]:
    """Both servers up, warmed up, then the alternating rounds; both stopped whatever happens."""
    servers: list[Server] = []
    results: dict[tuple[str, str], list[Result]] = {}
    loads: list[float] = []
    try:
        servers.append(_start_oncoliaison(args.work, token, read_id, args.workers))
        servers.append(_start_peer(args.work, peer_python, args.patients, args.workers, mrn_system))
        for server in servers:  # warm-up, not counted
            for case in cases:
                run_load(args.work, server, case, args, 2)
        for n in range(args.rounds):
            for case in cases:
                for server in servers if n % 2 == 0 else servers[::-1]:
                    result = _measured(run_load, args.work, server, case, args, args.duration)
                    results.setdefault((server.name, case), []).append(result)
                    print(f"round {n + 1} {case:<7} {server.name:<26} {result.rps:8.0f} req/s  "
                          f"p99 {result.p99_ms:6.1f} ms  server CPU {result.cpu_ms:5.2f} ms/request"
                          + (f"  {result.failed} unanswered" if result.failed else ""), flush=True)
            loads.append(os.getloadavg()[0])
    finally:
        for server in servers:
            _stop(server)
    return servers, results, loads


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per case, server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="server processes for each of the two")
    parser.add_argument("--cases", default="read,search,create")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-peer")
    args = parser.parse_args()
    tool = "wrk" if shutil.which("wrk") else "oha" if shutil.which("oha") else None
    if tool is None:
        raise SystemExit("Install wrk (apt-get install -y wrk) or oha to run this benchmark.")
    run_load = _run_wrk if tool == "wrk" else _run_oha
    args.work.mkdir(parents=True, exist_ok=True, mode=0o700)
    cases = [c for c in args.cases.split(",") if c]

    peer_python = _peer_python(args.work)
    with bench_database("fhir_peer", own_var_dir=True) as vendor:
        print(f"loading {args.patients:,} patients into OncoLiaison ({vendor})", flush=True)
        token, read_id, mrn_system = _load_oncoliaison(args.patients)
        servers, results, loads = _serve_and_load(args, run_load, cases, token, read_id, mrn_system, peer_python)
    onco, peer = servers[0].name, servers[1].name
    print()
    print(f"FHIR side by side — {tool} -c{args.connections}, {args.rounds} alternating rounds of {args.duration} s, "
          f"medians; {args.patients:,} patients; {args.workers} workers each; OncoLiaison on {vendor}, the peer on its SQLite store; Python "
          f"{platform.python_version()}, {os.cpu_count()} CPUs; load average (1 min) after each round: "
          f"{', '.join(f'{x:.2f}' for x in loads)}")
    labels = {"read": "GET /fhir/Patient/{id}", "search": "GET /fhir/Patient?family=X&_count=20",
              "create": "POST /fhir/Patient"}
    print("| case | OncoLiaison (gunicorn) | peer (uvicorn) | ratio (req/s) | server CPU per request, ours / "
          "peer | ratio (by CPU) |\n|---|---|---|---|---|---|")
    for case in cases:
        ours, theirs = results[(onco, case)], results[(peer, case)]
        o_rps, p_rps = statistics.median(r.rps for r in ours), statistics.median(r.rps for r in theirs)
        o_p99, p_p99 = statistics.median(r.p99_ms for r in ours), statistics.median(r.p99_ms for r in theirs)
        o_cpu, p_cpu = statistics.median(r.cpu_ms for r in ours), statistics.median(r.cpu_ms for r in theirs)
        print(f"| `{labels[case]}` | {o_rps:,.0f} req/s, p99 {o_p99:.1f} ms | {p_rps:,.0f} req/s, p99 {p_p99:.1f} ms "
              f"| **{o_rps / p_rps:.2f}** | {o_cpu:.2f} / {p_cpu:.2f} ms | {p_cpu / o_cpu if o_cpu else 0:.2f} |")
    for (name, case), runs in results.items():
        if sum(r.failed for r in runs):
            print(f"{name}, {case}: {sum(r.failed for r in runs)} requests unanswered within wrk's 2 s timeout")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
