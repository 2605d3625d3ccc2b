"""Instruments as data: read the files in ``instruments/data/symptom-monitoring`` into rows, and rows into rule definitions.

``load_instruments(apps)`` is what the data migration runs (it takes the migration's app registry, so it
works with historical models); it is idempotent — an instrument version already loaded is left alone.  The
rows are ``oncoliaison.instruments``'; their one cache is ``oncoliaison.instruments.cache``.
"""

from __future__ import annotations

import csv
import json
import re
from typing import Any

from django.apps import apps as global_apps

from oncoliaison.instruments import cache
from oncoliaison.instruments.files import data_dir, source_of
from oncoliaison.instruments.models import InstrumentVersion, Purpose
from oncoliaison.instruments.services import VersionSpec, purpose_unload, version_load, version_spec_from_file

from .rules import DATA_DIR, InstrumentDef, ItemDef, ScaleDef

_NAME = re.compile(r"^PROCTCAE_(?P<term>\d+)(?P<letter>[A-Z])_(?P<suffix>SCL|IND)$")
_ATTR_WORDS = (" Frequency", " Severity", " Interference", " Amount", " Presence")
FREE_TEXT_ITEM = {"link_id": "anything-else", "text": "Anything else you want your care team to know?",
                  "kind": "free_text"}


_ESAS_LABELS = {"pain": "Pain", "tiredness": "Tiredness", "drowsiness": "Drowsiness", "nausea": "Nausea",
                "appetite": "Lack of appetite", "breath": "Shortness of breath", "depression": "Depression",
                "anxiety": "Anxiety", "wellbeing": "Wellbeing", "other": "Other problem"}


def _esas_rows() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = json.loads((DATA_DIR / "esas_r.json").read_text(encoding="utf-8"))
    items = []
    for order, it in enumerate(d["items"], start=1):
        label = _ESAS_LABELS.get(it["symptom"], "")
        items.append({
            "link_id": it["link_id"], "order": order, "text": it["text"], "short_label": label or it["text"],
            "kind": it["kind"], "symptom": it["symptom"], "symptom_label": label, "attribute": "",
            "term": None, "min_value": it["min"], "max_value": it["max"], "options": [], "missing_options": [],
            "anchor_low": it["anchor_low"], "anchor_high": it["anchor_high"],
        })
    return d, items


def proctcae_term_label(short_label: str) -> str:
    for word in _ATTR_WORDS:
        if short_label.endswith(word):
            return short_label[: -len(word)]
    return short_label


def proctcae_wording() -> dict[str, str]:
    """Each PRO-CTCAE item's own question, as NCI's item library prints it (English), by item name.

    The wording is data (``proctcae_item_wording_en.csv``; sources in PROVENANCE.md), never assembled from a
    template: NCI's terms of use forbid altering the items, and several items have their own phrasing."""
    d = json.loads((DATA_DIR / "proctcae.json").read_text(encoding="utf-8"))
    with (DATA_DIR / d["items_wording_csv"]).open(newline="", encoding="utf-8") as fh:
        return {row["name"]: row["text"] for row in csv.DictReader(fh)}


def _proctcae_rows() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = json.loads((DATA_DIR / "proctcae.json").read_text(encoding="utf-8"))
    responses, missing = d["responses"], d["missing_options"]
    wording = proctcae_wording()
    items = []
    with (DATA_DIR / d["items_csv"]).open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for order, row in enumerate(rows, start=1):
        m = _NAME.match(row["name"])
        if m is None:
            continue  # GP5 "side effect bother" is a general item, not a symptom term
        term = int(m["term"])
        fmt = row["fmt_name"]
        attr = fmt.split("_")[0]
        if attr == "int" and row["short_label"].endswith("Amount"):
            attr = "amount"
        options = list(responses[attr])
        kind = "presence" if attr == "yn" else "ordinal"
        items.append({
            "link_id": row["name"], "order": order, "text": wording[row["name"]],
            "short_label": row["short_label"], "kind": kind,
            "symptom": f"proctcae-{term}", "symptom_label": proctcae_term_label(row["short_label"]),
            "attribute": attr, "term": term, "min_value": 0, "max_value": len(options) - 1, "options": options,
            "missing_options": missing.get(fmt, []), "anchor_low": "", "anchor_high": "",
        })
    items.append({**FREE_TEXT_ITEM, "short_label": "Anything else", "order": len(rows) + 1, "symptom": "", "symptom_label": "", "attribute": "",
                  "term": None, "min_value": None, "max_value": None, "options": [], "missing_options": [],
                  "anchor_low": "", "anchor_high": ""})
    return d, items


def _instrument_rows() -> tuple[tuple[str, tuple[dict[str, Any], list[dict[str, Any]]]], ...]:
    return ("esas_r", _esas_rows()), ("proctcae_composite", _proctcae_rows())


def version_specs() -> list[VersionSpec]:
    """The symptom instruments shipped here, as read from their data files."""
    specs = []
    for method, (d, items) in _instrument_rows():
        specs.append(VersionSpec(
            code=d["code"], purpose=Purpose.SYMPTOM_MONITORING, version=d["version"], scoring=method,
            definition=d, recall=d.get("recall", ""), loaded_from=f"{source_of(DATA_DIR)} ({d['code']})",
            items=items,
            instrument={"title": d["title"], "publisher": d["publisher"], "source_url": d["source_url"],
                        "citation": d["citation"], "licence": d["licence_text"],
                        "requires_permission": d["requires_permission"]},
        ))
    return specs


def load_instruments(apps: Any = global_apps) -> None:
    """Load every symptom instrument version not loaded yet (a loaded version is left alone)."""
    for spec in version_specs():
        version_load(spec, apps=apps)


def quality_of_life_specs() -> list[VersionSpec]:
    """The quality-of-life instruments (EORTC QLQ-C30, PROMIS-29), scored by ``quality_of_life``."""
    return [version_spec_from_file(path, purpose=Purpose.QUALITY_OF_LIFE)
            for path in sorted(data_dir(Purpose.QUALITY_OF_LIFE).glob("*.json"))]


def load_quality_of_life(apps: Any = global_apps) -> None:
    """Load every quality-of-life instrument version not loaded yet (a loaded version is left alone)."""
    for spec in quality_of_life_specs():
        version_load(spec, apps=apps)


def unload_quality_of_life(using: str = "default") -> None:
    """The reverse of ``load_quality_of_life`` (a migration back to before the quality-of-life purpose)."""
    purpose_unload([Purpose.QUALITY_OF_LIFE], using=using)


def refresh_item_wording(apps: Any = global_apps, app_label: str = "instruments") -> None:
    """Correct the loaded items of every version in place from the files: the question each item asks,
    its short label (kept for staff views and charts), its response options and the languages the
    instrument is published in.  Item names, order and codes do not change, so stored answers keep their
    meaning (the hair-loss "amount" options are coded 0-4 in both the old and the corrected wording).
    ``app_label``: where the rows are (``monitoring`` in the migrations before they moved to instruments)."""
    Version = apps.get_model(app_label, "InstrumentVersion")
    Item = apps.get_model(app_label, "InstrumentItem")
    for _method, (d, items) in _instrument_rows():
        rows = {row["link_id"]: row for row in items}
        for version in Version.objects.filter(instrument__code=d["code"]):
            version.definition = {**version.definition, "languages": d.get("languages", ["en"])}
            if "responses" in d:
                version.definition["responses"] = d["responses"]
            version.save(update_fields=["definition"])
            for item in Item.objects.filter(version=version):
                row = rows.get(item.link_id)
                if row is None:
                    continue
                item.text, item.short_label, item.options = row["text"], row["short_label"], row["options"]
                item.save(update_fields=["text", "short_label", "options"])
    if apps is global_apps:
        cache.clear()



# --- rows -> rule definitions ----------------------------------------------------------------------------


def definition_for(version_id: int) -> InstrumentDef:
    """The scoring definition of an instrument version (versions never change once loaded, so cached)."""
    return cache.remember("symptom-scoring-definition", version_id, lambda: _definition(version_id))


def _definition(version_id: int) -> InstrumentDef:
    version = InstrumentVersion.objects.select_related("instrument").get(pk=version_id)
    items = tuple(
        ItemDef(link_id=i.link_id, kind=i.kind, symptom=i.symptom, symptom_label=i.symptom_label,
                attribute=i.attribute, term=i.term, min_value=i.min_value, max_value=i.max_value, text=i.text)
        for i in version.items.all().order_by("order")
    )
    scoring = version.definition.get("scoring", {})
    scales = tuple(
        ScaleDef(code=s["code"], label=s["label"], items=tuple(s["items"]), min_value=s["min"], max_value=s["max"])
        for s in scoring.get("scales", [])
    )
    return InstrumentDef(code=version.instrument.code, method=version.scoring, items=items, scales=scales)
