"""SMART App Launch v2 scopes (https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html).

We accept system-level scopes only: ``system/<Type|*>.<cruds>``; v1 ``.read`` / ``.write`` / ``.*`` are
translated (read = rs, write = cud, * = cruds) as the SMART v2 specification describes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCOPE = re.compile(r"^system/(?P<type>\*|[A-Z][A-Za-z]+)\.(?P<perm>[cruds]+|read|write|\*)$")
_ORDER = "cruds"


class ScopeError(ValueError):
    pass


@dataclass(frozen=True)
class ScopeSet:
    grants: frozenset[tuple[str, str]]  # (resource type or *, interaction letter)

    @classmethod
    def parse(cls, text: str) -> ScopeSet:
        grants: set[tuple[str, str]] = set()
        for raw in text.split():
            m = _SCOPE.match(raw)
            if not m:
                raise ScopeError(f"Unsupported scope '{raw}'. Use SMART v2 system scopes such as system/Patient.rs")
            perm = m["perm"]
            if perm == "read":
                perm = "rs"
            elif perm == "write":
                perm = "cud"
            elif perm == "*":
                perm = "cruds"
            elif list(perm) != sorted(perm, key=_ORDER.index) or len(set(perm)) != len(perm):
                raise ScopeError(f"Scope '{raw}': permissions must be in the order c r u d s, each once")
            for letter in perm:
                grants.add((m["type"], letter))
        return cls(frozenset(grants))

    def allows(self, resource_type: str, interaction: str) -> bool:
        return (resource_type, interaction) in self.grants or ("*", interaction) in self.grants

    def narrowed_to(self, requested: ScopeSet) -> ScopeSet:
        """The requested scopes that this (granted) set covers."""
        return ScopeSet(frozenset(g for g in requested.grants if self.allows(*g)))

    def __str__(self) -> str:
        by_type: dict[str, set[str]] = {}
        for rtype, letter in self.grants:
            by_type.setdefault(rtype, set()).add(letter)
        return " ".join(
            f"system/{rtype}.{''.join(sorted(letters, key=_ORDER.index))}" for rtype, letters in sorted(by_type.items())
        )
