"""The locked dependencies (``constraints.txt``) have no known vulnerability (pip-audit, PyPI's advisories).

pip-audit's PyPI source reads each pinned release's ``vulnerabilities`` field from PyPI's JSON API
(``/pypi/<name>/<version>/json``).  Where that per-release endpoint cannot be reached (an offline machine, or
a mirror that serves only project pages), the test is skipped with the reason; it never passes silently
without having checked.  Policy and review cadence: ``docs/security.md``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CONSTRAINTS = ROOT / "constraints.txt"
# Advisories reviewed and accepted, each with its reason and review date (empty: none accepted).
ACCEPTED: dict[str, str] = {}


def _pins() -> dict[str, str]:
    pins = {}
    for line in CONSTRAINTS.read_text().splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if m:
            pins[m[1]] = m[2]
    return pins


def test_every_dependency_is_pinned_in_constraints() -> None:
    """What CI installs is what was audited: every installed distribution has an exact pin."""
    from importlib.metadata import distributions

    pins = {re.sub(r"[-_.]+", "-", name).lower() for name in _pins()}
    installed = {re.sub(r"[-_.]+", "-", d.metadata["Name"]).lower() for d in distributions()}
    tooling = {"pip", "setuptools", "wheel", "oncoliaison"}
    assert installed - pins - tooling == set(), "Pin these in constraints.txt"


def _advisory_source_reachable() -> str:
    """'' when PyPI's per-release JSON answers, else why not."""
    name, version = "Django", _pins()["Django"]
    url = f"https://pypi.org/pypi/{name}/{version}/json"
    try:
        response = requests.get(url, timeout=10)
    except requests.RequestException as exc:
        return f"{url} is not reachable ({type(exc).__name__})"
    if response.status_code != 200 or "vulnerabilities" not in response.text:
        return f"{url} answered {response.status_code} without the vulnerabilities field"
    return ""


def test_locked_dependencies_have_no_known_vulnerability() -> None:
    why_not = _advisory_source_reachable()
    if why_not:
        pytest.skip(f"pip-audit's PyPI advisory source cannot be used here: {why_not}.  Run "
                    "`make audit` where pypi.org is reachable (docs/security.md, dependency policy).")
    pip_audit = shutil.which("pip-audit", path=str(Path(sys.executable).parent))
    assert pip_audit, "pip-audit is part of the dev extra"
    run = subprocess.run(
        [pip_audit, "-s", "pypi", "--no-deps", "--disable-pip", "-r", str(CONSTRAINTS), "--format", "json",
         "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    report = json.loads(run.stdout or "{}")
    found = [f"{d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
             for d in report.get("dependencies", []) for v in d.get("vulns", []) if v["id"] not in ACCEPTED]
    skipped = [d["name"] for d in report.get("dependencies", []) if d.get("skip_reason")]
    assert not skipped, f"pip-audit could not audit: {skipped}"
    assert not found, "Known vulnerabilities in locked dependencies:\n" + "\n".join(found)
