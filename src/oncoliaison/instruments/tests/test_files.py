"""The instruments' data files: one folder per purpose, each file named in the one PROVENANCE.md."""

from __future__ import annotations

from oncoliaison.instruments.files import DATA_ROOT, data_dir, source_of
from oncoliaison.instruments.models import Purpose


def test_every_purpose_has_its_data_folder() -> None:
    for purpose in Purpose:
        assert data_dir(purpose).is_dir(), purpose
        assert any(data_dir(purpose).iterdir()), purpose


def test_provenance_names_every_data_file() -> None:
    provenance = (DATA_ROOT / "PROVENANCE.md").read_text(encoding="utf-8")
    files = [p for p in DATA_ROOT.rglob("*") if p.is_file() and p.name != "PROVENANCE.md"]
    assert files
    missing = [source_of(p) for p in files if f"`{p.name}`" not in provenance]
    assert missing == []


def test_loaded_from_names_the_file_inside_the_application() -> None:
    assert source_of(data_dir(Purpose.SYMPTOM_MONITORING) / "esas_r.json") == (
        "instruments/data/symptom-monitoring/esas_r.json"
    )
