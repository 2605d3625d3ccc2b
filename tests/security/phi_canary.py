"""Patient identifiers planted by the PHI-in-logs tests, and the watch that looks for them in every log.

The tests in ``test_phi_not_logged.py`` send these (a name, an MRN, a birth date) through every door in
the ways a person or system would: page searches, JSON API searches, FHIR searches, bad requests that the
servers log.  The watch (a session fixture in the root ``conftest.py``) records every log record emitted
while the whole test run goes, and reads every log file left under ``var/``; at the end of the run it fails
if any planted value appears.  The values are unlikely to occur by chance.
"""

from __future__ import annotations

import logging
from pathlib import Path

GIVEN = "Zebulonia"
FAMILY = "Quillfeather"
MRN = "MRN-CANARY-5521907"
BIRTH_DATE = "1933-07-21"
PLANTED = (GIVEN, FAMILY, MRN, BIRTH_DATE, "1933-07")
LOG_DIRS = (Path("var"),)


class RecordEverything(logging.Handler):
    """Keeps the text of every record that reaches the root logger (message and formatted exception)."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.texts: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a malformed record still counts: keep its parts
            text = f"{record.msg!r} {record.args!r}"
        if record.exc_info and record.exc_info[1] is not None:
            text += f" {record.exc_info[1]!r}"
        self.texts.append((record.name, text))


def leaks(handler: RecordEverything) -> list[str]:
    found = [f"log record of {name}: {text[:200]}" for name, text in handler.texts
             if any(value in text for value in PLANTED)]
    for folder in LOG_DIRS:
        for path in sorted(folder.glob("**/*.log")) if folder.exists() else []:
            content = path.read_text(errors="replace")
            found.extend(f"log file {path}: {value}" for value in PLANTED if value in content)
    return found
