"""Rules of the code base that a reviewer would otherwise have to remember (docs/architecture.md).

- Migrations are named by hand for what they do (``0004_alert_reasons_by_weight``), never Django's
  ``auto_<date>`` or a second ``initial``: a migration's name is what an operator reads in ``showmigrations``.
- No module of the application is longer than 600 lines: a longer one is split along its sections.
"""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "oncoliaison"
# Named before this rule existed; renaming an applied migration would break upgrades of installed systems.
GRANDFATHERED = {"accounts/migrations/0002_initial.py"}
MAX_LINES = 600


def test_migrations_are_named_for_what_they_do() -> None:
    bad = []
    for path in sorted(SRC.glob("*/migrations/0*.py")):
        rel = str(path.relative_to(SRC))
        name = path.stem
        if rel in GRANDFATHERED:
            continue
        if re.search(r"(^|_)auto(_|$)", name) or (name.endswith("_initial") and not name.startswith("0001_")):
            bad.append(rel)
        if not re.fullmatch(r"\d{4}_[a-z0-9_]+", name):
            bad.append(rel)
    assert bad == [], f"Name these migrations for what they do: {bad}"


def test_no_module_is_longer_than_600_lines() -> None:
    long = {}
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC)
        if "migrations" in rel.parts or "tests" in rel.parts:
            continue
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES:
            long[str(rel)] = n
    assert long == {}, f"Split these along their sections: {long}"
