"""Real example data used by the oncology tests (see tests/fixtures/*/PROVENANCE.md)."""

from __future__ import annotations

import gzip
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[4] / "tests" / "fixtures"
MCODE_DIR = ROOT / "mcode"
SYNTHEA_DIR = ROOT / "synthea"
EXAMPLE_BASE = "http://example.org/fhir/"


def mcode_resources() -> list[dict]:
    """Every mCODE example resource that is not itself a Bundle."""
    out = []
    for path in sorted(MCODE_DIR.glob("*.json")):
        doc = orjson.loads(path.read_bytes())
        if doc.get("resourceType") != "Bundle":
            out.append(doc)
    return out


def mcode_bundles() -> dict[str, dict]:
    return {p.stem: orjson.loads(p.read_bytes()) for p in sorted(MCODE_DIR.glob("Bundle-*.json"))}


def mcode_collection(resources: list[dict] | None = None, bundle_type: str = "collection") -> dict:
    """The examples as one Bundle, with the fullUrls the IG's own bundles use."""
    resources = mcode_resources() if resources is None else resources
    return {
        "resourceType": "Bundle",
        "type": bundle_type,
        "entry": [{"fullUrl": f"{EXAMPLE_BASE}{r['resourceType']}/{r['id']}", "resource": r} for r in resources],
    }


def synthea_paths() -> list[Path]:
    return sorted(SYNTHEA_DIR.glob("*.json.gz"))


def synthea_bundle(path: Path) -> dict:
    return orjson.loads(gzip.decompress(path.read_bytes()))
