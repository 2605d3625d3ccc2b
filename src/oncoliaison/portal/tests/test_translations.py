"""Every sentence the portal and secure messages show has its Spanish translation: a patient who chose
Spanish never meets an English sentence (or an outdated, "fuzzy" guess) in the middle of a page."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.utils import translation

APPS = Path(__file__).resolve().parents[2]
CATALOGUES = [APPS / app / "locale" / "es" / "LC_MESSAGES" / "django.po" for app in ("portal", "messaging")]


def _entries(path: Path) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) of each entry of a .po file.  A plural entry's msgstr is its forms joined
    by "|", and empty when any form is missing."""
    entries: list[tuple[str, str, bool]] = []
    flags, field, parts = "", "", dict[str, list[str]]()

    def close() -> None:
        forms = ["".join(v) for k, v in parts.items() if k.startswith("msgstr")]
        msgstr = "|".join(forms) if forms and all(forms) else ""
        entries.append(("".join(parts.get("msgid", [])), msgstr, "fuzzy" in flags))

    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if parts:
                close()
            flags, field, parts = "", "", {}
        elif line.startswith("#,"):
            flags = line
        elif line.startswith(("msgid", "msgstr")):
            field, _, text = line.partition(" ")
            parts.setdefault(field, []).append(ast.literal_eval(text))
        elif line.startswith('"') and field:
            parts[field].append(ast.literal_eval(line))
    return [e for e in entries if e[0]]  # the header has an empty msgid


@pytest.mark.parametrize("path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_sentence_has_a_reviewed_spanish_translation(path: Path) -> None:
    entries = _entries(path)
    assert len(entries) > 20
    assert [m for m, s, fuzzy in entries if not s or fuzzy] == []


def test_the_compiled_catalogue_is_current() -> None:
    """The .mo served is built from the .po (compilemessages after every change)."""
    entries = _entries(CATALOGUES[0])
    with translation.override("es"):
        stale = [m for m, s, _ in entries if "%(" not in m and "|" not in s and translation.gettext(m) != s]
    assert stale == []


_LITERAL = re.compile(r"""\{%\s*(?:translate|trans)\s+"([^"]+)"|\b(?:_|gettext|gettext_lazy)\("([^"]+)"\)""")


@pytest.mark.parametrize("app", ["portal", "messaging"])
def test_every_literal_sentence_in_the_code_is_in_the_catalogue(app: str) -> None:
    """Catches a sentence added to a template or view without running makemessages."""
    catalogue = {m for m, s, fuzzy in _entries(APPS / app / "locale" / "es" / "LC_MESSAGES" / "django.po")
                 if s and not fuzzy}
    found = set()
    for path in (APPS / app).rglob("*"):
        if path.suffix in {".html", ".py"} and "tests" not in path.parts:
            for match in _LITERAL.finditer(path.read_text(encoding="utf-8")):
                found.add(match.group(1) or match.group(2))
    assert len(found) > 20
    assert sorted(found - catalogue) == []
