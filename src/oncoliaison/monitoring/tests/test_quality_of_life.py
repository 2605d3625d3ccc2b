"""Quality-of-life scoring: EORTC QLQ-C30 v3.0 by the EORTC scoring manual (Fayers et al., 3rd ed., 2001)
and the summary score (Giesinger et al., J Clin Epidemiol 2016;69:79-88); PROMIS-29 v2.1 T-scores from the
published look-up tables (HealthMeasures).  The instruments are loaded on a fresh database, loading them
again adds nothing, and the QLQ-C30 stays off until the EORTC's permission is recorded."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from oncoliaison.core import clock
from oncoliaison.instruments import services
from oncoliaison.instruments.files import data_dir
from oncoliaison.instruments.models import (
    Instrument,
    InstrumentItem,
    InstrumentVersion,
    PermissionKind,
    Purpose,
)
from oncoliaison.instruments.rules import NEEDS_PERMISSION
from oncoliaison.instruments.selectors import instrument_enabled_for
from oncoliaison.monitoring import quality_of_life as qol
from oncoliaison.monitoring.instruments import load_quality_of_life, quality_of_life_specs
from oncoliaison.testing import Cast


def _file(name: str) -> dict[str, Any]:
    return json.loads((data_dir(Purpose.QUALITY_OF_LIFE) / name).read_text(encoding="utf-8"))


C30 = _file("eortc-qlq-c30-3.0.json")
PROMIS = _file("promis-29-2.1.json")


def _scores(answers: dict[str, int | None]) -> dict[str, float | None]:
    return {s.code: s.value for s in qol.qlq_c30_scores(C30, answers)}


# --- EORTC QLQ-C30 ----------------------------------------------------------------------------------------


def test_the_fifteen_scales_map_the_items_of_the_scoring_manual() -> None:
    # Scoring manual table (agreed by PROscorer, awell-score and the MII IG): 15 scales over items 1-30.
    scales = {s["code"]: s["items"] for s in C30["scales"]}
    assert scales["QL2"] == ["q29", "q30"] and scales["PF2"] == ["q1", "q2", "q3", "q4", "q5"]
    assert scales["EF"] == ["q21", "q22", "q23", "q24"] and scales["FA"] == ["q10", "q12", "q18"]
    assert sorted(int(i[1:]) for items in scales.values() for i in items) == list(range(1, 31))


def test_linear_transformation_per_scale_type() -> None:
    # Manual: functional S = (1 - (RS-1)/3) x 100; symptom S = (RS-1)/3 x 100; global health (RS-1)/6 x 100.
    answers: dict[str, int | None] = {f"q{n}": 1 for n in range(1, 29)} | {"q29": 6, "q30": 5}
    answers |= {"q21": 2, "q22": 2, "q23": 3, "q24": 3, "q10": 2, "q12": 3, "q18": 4}
    s = _scores(answers)
    assert s["PF2"] == 100 and s["DY"] == 0
    assert s["EF"] == pytest.approx(50.0)  # RS 2.5
    assert s["FA"] == pytest.approx(200 / 3)  # RS 3
    assert s["QL2"] == pytest.approx(75.0)  # RS 5.5 on the 1-7 items
    assert _scores({f"q{n}": 4 for n in range(1, 29)})["PF2"] == 0


def test_half_items_rule_for_missing_answers() -> None:
    # Manual: a scale is scored from its answered items when at least half of them are answered.
    assert _scores({"q10": 2, "q12": None, "q18": 4})["FA"] == pytest.approx(200 / 3)  # 2 of 3
    assert _scores({"q10": 2, "q12": None, "q18": None})["FA"] is None  # 1 of 3
    assert _scores({"q6": 3, "q7": None})["RF2"] == pytest.approx(100 / 3)  # 1 of 2 is half
    assert _scores({"q1": 1, "q2": 1})["PF2"] is None  # 2 of 5
    assert _scores({"q1": 1, "q2": 1, "q3": 2})["PF2"] == pytest.approx((1 - (4 / 3 - 1) / 3) * 100)  # 3 of 5
    assert _scores({"q8": None})["DY"] is None  # a single-item scale with its item missing


def test_summary_score_needs_all_thirteen_scales() -> None:
    # Giesinger 2016: mean of PF2, RF2, SF, EF, CF and 100 minus FA, PA, NV, DY, SL, AP, CO, DI.
    best: dict[str, int | None] = {f"q{n}": 1 for n in range(1, 29)} | {"q29": 1, "q30": 1}
    assert _scores(best)["SumSc"] == pytest.approx(100)  # QL2 (0 here) and FI are not in it
    worse = best | {"q9": 4, "q19": 4}  # pain 100 -> 100 - 100 = 0 of 13 parts
    assert _scores(worse)["SumSc"] == pytest.approx(1200 / 13)
    assert _scores(best | {"q17": None})["SumSc"] is None  # diarrhoea unscored
    assert _scores(best | {"q28": None})["SumSc"] == pytest.approx(100)  # financial difficulties not in it


# --- PROMIS-29 ------------------------------------------------------------------------------------------


def test_promis_fatigue_t_scores_from_the_published_table() -> None:
    # PROMIS Short Form Fatigue 4a look-up table (instruments spec §5): raw 4 -> 33.7, 12 -> 57.0, 20 -> 75.8.
    fatigue = next(d for d in PROMIS["domains"] if d["code"] == "fatigue")
    for codes, t in (((1, 1, 1, 1), 33.7), ((3, 3, 3, 3), 57.0), ((5, 5, 5, 5), 75.8), ((2, 1, 1, 1), 39.7)):
        answers = dict(zip(fatigue["items"], codes, strict=True))
        assert qol.promis_t_score(fatigue, answers).value == t


def test_promis_gives_no_t_score_with_a_missing_item_or_without_a_sourced_table() -> None:
    fatigue = next(d for d in PROMIS["domains"] if d["code"] == "fatigue")
    assert qol.promis_t_score(fatigue, {"fatigue-1": 3, "fatigue-2": 3, "fatigue-3": 3}).value is None
    scores = {s.code: s for s in qol.promis_29_scores(PROMIS, dict.fromkeys(
        [i["link_id"] for i in PROMIS["items"]], 1) | {"pain-intensity": 6})}
    assert scores["physical-function"].value is None and "not available" in scores["physical-function"].note
    assert scores["pain-interference"].value is None
    assert scores["depression"].value == 41.0 and scores["pain-intensity"].value == 6.0


def test_dispatch_by_the_data_files_scoring_name() -> None:
    assert {C30["scoring"], PROMIS["scoring"]} <= set(qol.QOL_SCORERS)
    with pytest.raises(ValueError, match="Unknown scoring"):
        qol.score("fact-g", C30, {})


# --- loading and the licence gate -------------------------------------------------------------------------


@pytest.mark.django_db
def test_loaded_on_a_fresh_database_and_loading_twice_adds_nothing() -> None:
    versions = {v.instrument.code: v for v in InstrumentVersion.objects.select_related("instrument").filter(
        instrument__purpose=Purpose.QUALITY_OF_LIFE)}
    assert set(versions) == {"eortc-qlq-c30", "promis-29"}
    for spec in quality_of_life_specs():
        assert versions[spec.code].checksum == services.checksum_of(spec.definition)
    # Copyrighted: no questionnaire text is stored, only item codes and gists.
    assert set(InstrumentItem.objects.filter(version=versions["eortc-qlq-c30"]).values_list("text", flat=True)) == {""}
    counts = (Instrument.objects.count(), InstrumentVersion.objects.count(), InstrumentItem.objects.count())
    load_quality_of_life()
    load_quality_of_life()
    assert (Instrument.objects.count(), InstrumentVersion.objects.count(), InstrumentItem.objects.count()) == counts


@pytest.mark.django_db
def test_the_qlq_c30_is_off_until_the_eortc_permission_is_recorded(cast: Cast) -> None:
    c30 = Instrument.objects.get(code="eortc-qlq-c30")
    assert c30.requires_permission
    assert instrument_enabled_for(c30, cast.lead.pk) == (False, NEEDS_PERMISSION)
    starts = clock.today() + dt.timedelta(days=5)
    services.permission_record(
        actor=cast.actor(cast.admin), instrument=c30, organization_id=cast.lead.pk, detail="granted",
        entry=services.PermissionEntry(kind=PermissionKind.GRANT, reference="EORTC-AUA-1", granted_by="EORTC",
                                       holder="Lead", granted_on=starts))
    assert not instrument_enabled_for(c30, cast.lead.pk)[0]
    assert instrument_enabled_for(c30, cast.lead.pk, on=starts) == (True, "Permission EORTC-AUA-1 recorded.")
