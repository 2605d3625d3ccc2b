"""Files sent for import: a FHIR Bundle (JSON), several Bundles, or NDJSON resources — as Bundles."""

from __future__ import annotations

from typing import Any

import orjson


def bundles_from_bytes(raw: bytes, *, name: str = "") -> list[dict[str, Any]]:
    """A Bundle (JSON), a single resource (JSON) or NDJSON (one resource or Bundle a line) → Bundles.

    Loose resources become one ``collection`` Bundle with ``Type/id`` references left as they are.
    Raises ValueError naming the line for malformed JSON.
    """
    stripped = raw.lstrip()
    if not stripped:
        return []
    is_ndjson = name.endswith(".ndjson") or (b"\n" in stripped.strip() and not stripped.startswith(b"{\n")
                                              and _looks_ndjson(stripped))
    if not is_ndjson:
        doc = orjson.loads(raw)
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            return [doc]
        if isinstance(doc, dict):
            return [_collection([doc])]
        raise ValueError("The file holds JSON that is not a FHIR resource.")
    loose: list[dict[str, Any]] = []
    bundles: list[dict[str, Any]] = []
    for n, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"line {n}: {exc}") from None
        if isinstance(doc, dict) and doc.get("resourceType") == "Bundle":
            bundles.append(doc)
        elif isinstance(doc, dict):
            loose.append(doc)
        else:
            raise ValueError(f"line {n}: not a FHIR resource")
    if loose:
        bundles.append(_collection(loose))
    return bundles


def _looks_ndjson(raw: bytes) -> bool:
    first = raw.split(b"\n", 1)[0].strip()
    if not (first.startswith(b"{") and first.endswith(b"}")):
        return False
    try:
        orjson.loads(first)
    except orjson.JSONDecodeError:
        return False
    return True


def _collection(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }
