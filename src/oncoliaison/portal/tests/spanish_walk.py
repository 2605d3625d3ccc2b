"""Find English sentences on a page meant for a Spanish-speaking person.

A page's visible text (text nodes and the attributes people hear or read: aria-label, title, placeholder,
alt, button values) is split into runs; a run is English when it contains a word that is English and not
Spanish (``the``, ``your``, ``with``…).  Text inside an element marked with another language
(``lang="en"``) is not counted: it is declared as English, as WCAG asks, and shown that way on purpose
(language names in the language switch, a questionnaire offered in English).  Data people entered (names,
organisations, messages) is passed in by the test and removed first.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

ENGLISH_ONLY = frozenset(["the", "your", "you", "to", "of", "and", "is", "are", "with", "for", "have", "this", "that", "or", "at", "be", "been", "will", "would", "what", "how", "when", "who", "which", "an", "it", "its", "my", "we", "our", "us", "they", "their", "by", "from", "on", "if", "can", "could", "do", "does", "did", "not", "was", "were", "please", "here", "there", "all", "any", "more", "sign", "out", "back", "send", "report", "reports", "symptoms", "symptom", "care", "team", "required", "yet", "about", "after", "before", "only", "message", "messages", "home", "record", "details", "date", "name", "phone", "help", "new", "next", "previous", "change", "language", "security", "should", "must", "been", "being", "into", "over", "under", "than", "then", "them", "these", "those", "upon", "while", "where", "why", "yes", "week", "weeks", "day", "days", "today", "now", "call", "contact", "request", "requests", "form", "submit", "save", "cancel", "edit", "delete", "show", "see", "view", "open", "close"])
_WORD = re.compile(r"[^\W\d_]+(?:'[a-z]+)?")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
_ATTRS = ("aria-label", "title", "placeholder", "alt")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []  # (tag, inside another language or not shown)
        self.runs: list[str] = []

    def _other(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        lang = a.get("lang", "")
        other = self._other() or tag in ("script", "style", "template") or (bool(lang) and not lang.startswith("es"))
        if not other:
            self.runs += [a[k] for k in _ATTRS if a.get(k)]
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.runs.append(a["value"])
        if tag not in _VOID:
            self.stack.append((tag, other))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data: str) -> None:
        if not self._other() and data.strip():
            self.runs.append(" ".join(data.split()))


def english_runs(html: str, data: tuple[str, ...] = ()) -> list[str]:
    """The runs of visible text of ``html`` that read as English, after removing ``data``."""
    parser = _Text()
    parser.feed(html)
    found = []
    for run in parser.runs:
        text = run
        for d in sorted(data, key=len, reverse=True):
            text = text.replace(d, " ")
        words = {w.lower() for w in _WORD.findall(text)}
        if words & ENGLISH_ONLY:
            found.append(run)
    return found
