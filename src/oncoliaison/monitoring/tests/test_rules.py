"""Pure rules: ESAS-r sums, PRO-CTCAE composite grades, alert rules, deadlines and guidance.

Test vectors are derived by hand from the published rules (never from another implementation's output):
- ESAS-r: ESAS-r Administration Manual (AHS, Nov 2019); TSDS = items 1-9 (Hui & Bruera, JPSM 2017;
  53(3):630-643); physical / emotional subscores (Cheung et al., JPSM 2009;37(3):297-304); bands 0 / 1-3 /
  4-6 / 7-10 (Selby et al., JPSM 2010;39(2):241).
- PRO-CTCAE composite: Basch E et al., Clin Trials 2021;18(1):104-114, Table 2 / Figure 2 (179 combinations),
  gate and zero-imputation rules as in ProAE 1.0.4 ``toxScores(impute=TRUE)``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from oncoliaison.monitoring import rules
from oncoliaison.monitoring.rules import (
    DeadlinePolicy,
    InstrumentDef,
    ItemDef,
    ScaleDef,
    SymptomResult,
    composite_grade,
)

ESAS_SYMPTOMS = ["pain", "tiredness", "drowsiness", "nausea", "appetite", "breath", "depression", "anxiety",
                 "wellbeing", "other"]
ESAS = InstrumentDef(
    code="esas-r",
    method="esas_r",
    items=(*tuple(ItemDef(f"esas-{n}", "scale", s, s.title(), min_value=0, max_value=10) for n, s in enumerate(ESAS_SYMPTOMS, start=1)), ItemDef("esas-10-name", "text"), ItemDef("anything-else", "free_text")),
    scales=(
        ScaleDef("tsds", "Total", tuple(f"esas-{i}" for i in range(1, 10)), 0, 90),
        ScaleDef("physical", "Physical", tuple(f"esas-{i}" for i in range(1, 7)), 0, 60),
        ScaleDef("emotional", "Emotional", ("esas-7", "esas-8"), 0, 20),
    ),
)


def esas(values: list[int | None], **extra: object) -> dict[str, object]:
    answers: dict[str, object] = {f"esas-{i}": v for i, v in enumerate(values, start=1)}
    answers.update(extra)
    return answers


def by_code(results: list[SymptomResult]) -> dict[str, SymptomResult]:
    return {r.code: r for r in results}


# --- ESAS-r ------------------------------------------------------------------------------------------------


def test_esas_total_is_items_1_to_9_and_excludes_other():
    # Manual: TSDS = sum of the 9 core symptoms; "Other problem" (item 10) is not part of it.
    scores = by_code(rules.score(ESAS, esas([3, 5, 2, 0, 4, 1, 6, 2, 4, 9], **{"esas-10-name": "constipation"})))
    assert scores["esas-tsds"].value == 3 + 5 + 2 + 0 + 4 + 1 + 6 + 2 + 4 == 27
    assert scores["esas-tsds"].max_value == 90
    assert scores["esas-physical"].value == 3 + 5 + 2 + 0 + 4 + 1 == 15
    assert scores["esas-emotional"].value == 6 + 2 == 8
    assert scores["esas-other"].value == 9
    assert scores["esas-other"].label == "Other: constipation"


def test_esas_extremes():
    assert by_code(rules.score(ESAS, esas([0] * 9)))["esas-tsds"].value == 0
    top = by_code(rules.score(ESAS, esas([10] * 9)))
    assert (top["esas-tsds"].value, top["esas-physical"].value, top["esas-emotional"].value) == (90, 60, 20)


def test_esas_missing_item_leaves_only_its_sums_uncomputed():
    # No published imputation: a sum with any missing component is not computed; other sums still are.
    scores = by_code(rules.score(ESAS, esas([3, 5, 2, 0, 4, 1, None, 2, 4])))
    assert scores["esas-tsds"].value is None
    assert "1 item(s) missing" in scores["esas-tsds"].note
    assert scores["esas-emotional"].value is None
    assert scores["esas-physical"].value == 15
    assert scores["esas-depression"].value is None and scores["esas-depression"].band == ""


def test_esas_unused_other_item_is_not_a_score():
    assert "esas-other" not in by_code(rules.score(ESAS, esas([1] * 9)))


@pytest.mark.parametrize(("value", "band"), [(0, "none"), (1, "mild"), (3, "mild"), (4, "moderate"),
                                             (6, "moderate"), (7, "severe"), (10, "severe"), (None, "")])
def test_esas_bands(value, band):
    assert rules.esas_band(value) == band


def test_validate_refuses_out_of_range_and_unknown_items():
    with pytest.raises(rules.AnswerError) as exc:
        rules.validate_answers(ESAS, {"esas-1": 11, "esas-2": -1, "nope": 1, "esas-3": "x", "esas-4": True})
    assert set(exc.value.errors) == {"esas-1", "esas-2", "nope", "esas-3", "esas-4"}
    clean = rules.validate_answers(ESAS, {"esas-1": "7", "esas-2": None, "anything-else": "  hello "})
    assert clean == {"esas-1": 7, "esas-2": None, "anything-else": "hello"}


# --- PRO-CTCAE composite grade -------------------------------------------------------------------------------


def test_table_has_the_published_179_combinations():
    table = rules.composite_table()
    assert len(table) == 179
    patterns = {tuple(k is not None for k in key) for key in table}
    assert len(patterns) == 7
    assert sum(1 for k in table if None not in k) == 101  # F+S+I: 1 gate row + 4 x 25


@pytest.mark.parametrize(
    ("f", "s", "i", "grade"),
    [
        # Basch 2021 Table 2, three-attribute items (rows severity, columns interference)
        (1, 0, 0, 0), (2, 0, 0, 0), (3, 0, 0, 1), (4, 0, 0, 1),  # the published asymmetry
        (1, 1, 1, 1), (1, 2, 4, 3), (1, 4, 2, 3), (2, 2, 3, 3), (3, 3, 3, 3),
        (4, 4, 4, 3), (2, 1, 3, 2), (3, 0, 4, 2), (1, 0, 1, 1),
    ],
)
def test_three_attribute_lookup(f, s, i, grade):
    assert composite_grade(("frq", "sev", "int"), {"frq": f, "sev": s, "int": i}).grade == grade


@pytest.mark.parametrize(("attrs", "values", "grade"), [
    # F+S (nausea): F>=1 with S=0 is grade 1
    (("frq", "sev"), {"frq": 1, "sev": 0}, 1), (("frq", "sev"), {"frq": 3, "sev": 3}, 3),
    (("frq", "sev"), {"frq": 2, "sev": 2}, 2), (("frq", "sev"), {"frq": 4, "sev": 1}, 1),
    # F+I (urinary urgency)
    (("frq", "int"), {"frq": 2, "int": 2}, 1), (("frq", "int"), {"frq": 3, "int": 2}, 2),
    (("frq", "int"), {"frq": 4, "int": 4}, 3),
    # S+I (fatigue)
    (("sev", "int"), {"sev": 1, "int": 0}, 1), (("sev", "int"), {"sev": 2, "int": 4}, 3),
    (("sev", "int"), {"sev": 4, "int": 0}, 2), (("sev", "int"), {"sev": 3, "int": 1}, 2),
    # single attributes: F 0,1,1,2,3 ; S 0,1,2,3,3 ; I/amount 0,1,1,2,2
    (("frq",), {"frq": 2}, 1), (("frq",), {"frq": 4}, 3), (("sev",), {"sev": 2}, 2), (("sev",), {"sev": 4}, 3),
    (("int",), {"int": 3}, 2), (("int",), {"int": 4}, 2), (("amount",), {"amount": 2}, 1),
])
def test_two_and_one_attribute_lookups(attrs, values, grade):
    assert composite_grade(attrs, values).grade == grade


def test_gate_zero_imputes_skipped_attributes_and_grades_zero():
    result = composite_grade(("frq", "sev", "int"), {"frq": 0, "sev": None, "int": None})
    assert result.grade == 0 and "gate" in result.reason
    assert composite_grade(("sev", "int"), {"sev": 0}).grade == 0


def test_missing_gate_or_later_attribute_gives_no_grade():
    assert composite_grade(("frq", "sev", "int"), {"frq": None, "sev": 3, "int": 3}).grade is None
    assert composite_grade(("frq", "sev", "int"), {"frq": 2, "sev": 3, "int": None}).grade is None
    assert composite_grade(("sev", "int"), {"sev": 2}).grade is None


def test_term_groups_match_the_published_patterns():
    patterns = rules.term_patterns()
    assert patterns[16] == ("frq",) and patterns[1] == ("sev",) and patterns[27] == ("int",)
    assert patterns[9] == ("frq", "sev") and patterns[18] == ("frq", "int") and patterns[53] == ("sev", "int")
    assert patterns[48] == ("frq", "sev", "int")
    assert 5 not in patterns  # presence-only terms are not composite-graded


PROCTCAE = InstrumentDef(
    code="pro-ctcae",
    method="proctcae_composite",
    items=(
        ItemDef("PROCTCAE_9A_SCL", "ordinal", "proctcae-9", "Nausea", "frq", 9, 0, 4),
        ItemDef("PROCTCAE_9B_SCL", "ordinal", "proctcae-9", "Nausea", "sev", 9, 0, 4),
        ItemDef("PROCTCAE_48A_SCL", "ordinal", "proctcae-48", "Pain", "frq", 48, 0, 4),
        ItemDef("PROCTCAE_48B_SCL", "ordinal", "proctcae-48", "Pain", "sev", 48, 0, 4),
        ItemDef("PROCTCAE_48C_SCL", "ordinal", "proctcae-48", "Pain", "int", 48, 0, 4),
        ItemDef("PROCTCAE_5A_IND", "presence", "proctcae-5", "Voice Changes", "yn", 5, 0, 1),
        ItemDef("anything-else", "free_text"),
    ),
)


def test_proctcae_report_scores_only_asked_terms():
    scores = by_code(rules.score(PROCTCAE, {"PROCTCAE_9A_SCL": 3, "PROCTCAE_9B_SCL": 3, "PROCTCAE_5A_IND": 1}))
    assert scores["proctcae-9"].value == 3 and scores["proctcae-9"].band == "severe"
    assert scores["proctcae-5"].kind == "presence" and scores["proctcae-5"].value == 1
    assert "proctcae-48" not in scores


def test_proctcae_gate_skip_pattern_from_the_portal():
    # The patient answers "Never" to pain frequency; severity and interference are skipped.
    scores = by_code(rules.score(PROCTCAE, {"PROCTCAE_48A_SCL": 0, "PROCTCAE_48B_SCL": None}))
    assert scores["proctcae-48"].value == 0


# --- alert rules ---------------------------------------------------------------------------------------------


def item(code: str, value: int | None, kind: str = "item", max_value: int = 10) -> SymptomResult:
    band = rules.esas_band(value) if kind == "item" else rules.composite_band(value) if kind == "composite" else ""
    return SymptomResult(kind, code, code, value, max_value, band)


def kinds(reasons: list[rules.Reason]) -> list[tuple[str, str]]:
    return [(r.rule, r.symptom) for r in reasons]


def test_severe_esas_7_and_composite_3():
    reasons = rules.evaluate_alerts([item("esas-pain", 7), item("esas-nausea", 6),
                                     item("proctcae-9", 3, "composite", 3), item("proctcae-48", 2, "composite", 3)],
                                    None, "")
    assert kinds(reasons) == [("severe", "esas-pain"), ("severe", "proctcae-9")]
    assert rules.highest_severity(reasons) == "severe"


def test_no_previous_report_means_no_worsening_or_new_symptom():
    assert rules.evaluate_alerts([item("esas-pain", 6)], None, "") == []


def test_worsening_by_two_points():
    reasons = rules.evaluate_alerts([item("esas-pain", 5), item("esas-nausea", 3)],
                                    {"esas-pain": 3, "esas-nausea": 2}, "")
    assert kinds(reasons) == [("worsening", "esas-pain")]
    assert reasons[0].severity == "moderate" and "3 → 5" in reasons[0].detail


def test_composite_worsening_to_grade_2():
    reasons = rules.evaluate_alerts([item("proctcae-9", 2, "composite", 3)], {"proctcae-9": 1}, "")
    assert kinds(reasons) == [("worsening", "proctcae-9")]
    assert rules.evaluate_alerts([item("proctcae-9", 1, "composite", 3)], {"proctcae-9": 0}, "") == []


def test_new_symptom_from_zero_or_absent():
    reasons = rules.evaluate_alerts([item("esas-anxiety", 4), item("proctcae-5", 1, "presence", 1),
                                     item("esas-pain", 4)], {"esas-anxiety": 0, "esas-pain": 4}, "")
    assert kinds(reasons) == [("worsening", "esas-anxiety"), ("new_symptom", "esas-anxiety"),
                              ("new_symptom", "proctcae-5")]


def test_red_flag_phrases_whole_words_case_insensitive():
    assert rules.red_flags_in("I have CHEST  pain and a Fever since last night", rules.DEFAULT_RED_FLAGS) == [
        "chest pain", "fever"]
    assert rules.red_flags_in("Feverfew tea helps", ["fever"]) == []
    assert rules.red_flags_in("I can\u2019t breathe", rules.DEFAULT_RED_FLAGS) == ["can't breathe"]
    reasons = rules.evaluate_alerts([], None, "some bleeding from the gums")
    assert kinds(reasons) == [("red_flag", "free-text")] and reasons[0].severity == "severe"


def test_configured_rules_replace_defaults_and_can_be_disabled():
    custom = [rules.RuleConfig("severe", "severe", params={"esas_at": 8, "grade_at": 3}),
              rules.RuleConfig("red_flag", "severe", enabled=False, params={"phrases": ["fever"]})]
    assert rules.evaluate_alerts([item("esas-pain", 7)], None, "fever", custom) == []
    assert kinds(rules.evaluate_alerts([item("esas-pain", 8)], None, "", custom)) == [("severe", "esas-pain")]


# --- deadlines ------------------------------------------------------------------------------------------------

NY = ZoneInfo("America/New_York")


def at(y: int, m: int, d: int, h: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, minute, tzinfo=NY)


def test_severe_deadline_is_one_hour_around_the_clock():
    assert rules.response_deadline(at(2026, 11, 21, 23, 30), "severe", DeadlinePolicy(), NY) == at(2026, 11, 22, 0, 30)


def test_moderate_deadline_is_end_of_next_business_day():
    # Monday 09:00 -> Tuesday 17:00; Friday 16:00 -> Monday 17:00; Saturday -> Monday 17:00
    assert rules.response_deadline(at(2026, 11, 23, 9), "moderate", DeadlinePolicy(), NY) == at(2026, 11, 24, 17)
    assert rules.response_deadline(at(2026, 11, 20, 16), "moderate", DeadlinePolicy(), NY) == at(2026, 11, 23, 17)
    assert rules.response_deadline(at(2026, 11, 21, 10), "moderate", DeadlinePolicy(), NY) == at(2026, 11, 23, 17)


def test_holidays_are_skipped_and_utc_input_is_localised():
    policy = DeadlinePolicy(holidays=frozenset({dt.date(2026, 11, 26)}))  # Thanksgiving
    created = at(2026, 11, 25, 20).astimezone(dt.UTC)  # Wed evening local = Thu 01:00 UTC
    assert rules.response_deadline(created, "moderate", policy, NY) == at(2026, 11, 27, 17)


def test_mild_and_configured_deadlines():
    assert rules.response_deadline(at(2026, 11, 23, 9), "mild", DeadlinePolicy(), NY) == at(2026, 11, 26, 17)
    policy = DeadlinePolicy(severe_minutes=30, moderate_business_days=0, business_day_end_hour=16)
    assert rules.response_deadline(at(2026, 11, 23, 9), "severe", policy, NY) == at(2026, 11, 23, 9, 30)
    assert rules.response_deadline(at(2026, 11, 22, 9), "moderate", policy, NY) == at(2026, 11, 23, 16)


def test_naive_time_refused():
    with pytest.raises(ValueError):
        rules.response_deadline(dt.datetime(2026, 1, 1, 9), "severe", DeadlinePolicy(), NY)


# --- guidance -------------------------------------------------------------------------------------------------


def test_guidance_for_severe_says_call_now_with_self_care():
    results = [item("esas-nausea", 8)]
    reasons = rules.evaluate_alerts(results, None, "")
    g = rules.guidance_for(results, reasons)
    assert g.call_now and g.severity == "severe"
    assert "within the hour" in g.headline
    assert g.self_care[0][0] == "esas-nausea"
    assert "911" in g.emergency


def test_guidance_with_fever_adds_fever_advice_and_none_when_well():
    reasons = rules.evaluate_alerts([], None, "fever 101")
    assert any(label == "Fever" for label, _ in rules.guidance_for([], reasons).self_care)
    calm = rules.guidance_for([item("esas-pain", 0)], [])
    assert not calm.call_now and calm.severity == "" and calm.self_care == ()


def test_red_flags_written_in_spanish_are_caught_with_or_without_accents():
    assert rules.red_flags_in("Tengo FIEBRE desde anoche", rules.DEFAULT_RED_FLAGS) == ["fiebre"]
    assert rules.red_flags_in("tuvo una convulsión y dolor en el pecho", rules.DEFAULT_RED_FLAGS) == [
        "convulsion", "dolor en el pecho"]
    assert rules.red_flags_in("No puedo retener liquidos", rules.DEFAULT_RED_FLAGS) == ["no puedo retener liquidos"]
    assert rules.red_flags_in("fiebres", ["fiebre"]) == []  # whole words only, as in English
    results = [item("esas-pain", 2)]
    reasons = rules.evaluate_alerts(results, None, "Tengo fiebre de 38.5 después de la quimio")
    assert [(r.rule, r.severity) for r in reasons] == [("red_flag", rules.SEVERE)]
    guidance = rules.guidance_for(results, reasons, language="es")
    assert guidance.call_now and any(label == "Fiebre" for label, _ in guidance.self_care)
