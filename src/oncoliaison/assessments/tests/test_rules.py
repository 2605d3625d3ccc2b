"""Scoring vectors for the bundled instruments.

Sources:
* NCCN Distress Thermometer - NCCN Guidelines, Distress Management (DIS-A); Donovan KA et al., JNCCN
  2022;20(1):96; summarised in /work/shared/specs/instruments.md §1: score = integer circled 0-10, no
  transformation; missing -> no score (not imputed); >= 4 clinically significant distress; Problem List: checked
  items per category, no score.
* CMS AHC HRSN screening tool (https://www.cms.gov/priorities/innovation/files/worksheets/ahcm-screeningtool.pdf):
  a domain is positive when an underlined answer is chosen; safety items scored Never 1 ... Frequently 5 and a
  total of 11 or more "may indicate that a person may not be safe" (HITS, Sherin 1998).
"""

from __future__ import annotations

import json

import pytest

from oncoliaison.assessments import rules
from oncoliaison.instruments.files import data_dir
from oncoliaison.instruments.models import Purpose

DATA_DIR = data_dir(Purpose.NEEDS_ASSESSMENT)
DT = json.loads((DATA_DIR / "nccn-dt-2022.json").read_text())
HRSN = json.loads((DATA_DIR / "ahc-hrsn-core.json").read_text())


def _dt(raw: dict) -> rules.Outcome:
    return rules.evaluate(DT, rules.normalise_answers(DT, raw))


def _hrsn(raw: dict) -> rules.Outcome:
    return rules.evaluate(HRSN, rules.normalise_answers(HRSN, raw))


def _score(outcome: rules.Outcome, code: str) -> rules.Score:
    return next(s for s in outcome.scores if s.code == code)


# --- definitions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("defn", [DT, HRSN], ids=["nccn-dt", "ahc-hrsn"])
def test_bundled_definitions_are_valid(defn: dict) -> None:
    rules.check_definition(defn)


def test_a_broken_definition_is_refused_with_every_problem_named() -> None:
    broken = {"code": "x", "version": "1", "title": "X", "scoring": "nope",
              "items": [{"link_id": "a", "type": "integer", "text": "A", "min": 5, "max": 1},
                        {"link_id": "a", "type": "choice", "text": "B", "options": [{"code": "y", "display": "Y",
                                                                                      "need": "unicorns"}]}]}
    with pytest.raises(rules.DefinitionError) as exc:
        rules.check_definition(broken)
    message = str(exc.value)
    assert "unknown scoring" in message
    assert "min < max" in message
    assert "repeated" in message
    assert "unknown need 'unicorns'" in message


def test_hrsn_codes_are_the_loinc_panel_codes() -> None:
    """LOINC 96777-8 panel items (CMS AHC HRSN core)."""
    assert HRSN["loinc"] == "96777-8"
    codes = {i["link_id"]: i["loinc"] for i in HRSN["items"]}
    assert codes == {
        "living-situation": "71802-3", "housing-problems": "96778-6", "food-worry": "88122-7",
        "food-ran-out": "88123-5", "transportation": "93030-5", "utilities": "96779-4", "safety-hurt": "95618-5",
        "safety-insult": "95617-7", "safety-threaten": "95616-9", "safety-scream": "95615-1",
    }


def test_dt_is_licensed_and_has_no_invented_loinc() -> None:
    assert DT["requires_permission"] is True
    assert DT["loinc"] == ""
    assert all("loinc" not in item for item in DT["items"])


# --- NCCN Distress Thermometer (instruments.md §1) ------------------------------------------------------------


@pytest.mark.parametrize(("value", "interpretation"), [
    (0, rules.NEGATIVE), (1, rules.NEGATIVE), (3, rules.NEGATIVE),  # < 4: mild distress
    (4, rules.POSITIVE), (5, rules.POSITIVE), (9, rules.POSITIVE), (10, rules.POSITIVE),  # >= 4: significant
])
def test_dt_cutoff_is_4(value: int, interpretation: str) -> None:
    score = rules.score_distress_thermometer(value)
    assert score.value == value  # the integer circled, no transformation
    assert score.interpretation == interpretation
    assert str(rules.DT_CUTOFF) in score.reasons[0]


def test_dt_missing_gives_no_score_and_is_not_imputed() -> None:
    score = rules.score_distress_thermometer(None)
    assert score.value is None
    assert score.interpretation == rules.NO_RESULT
    assert "not imputed" in score.reasons[0]


@pytest.mark.parametrize("bad", [-1, 11, 100, True])
def test_dt_out_of_range_is_refused_by_the_scorer(bad: int) -> None:
    with pytest.raises(ValueError, match="0 to 10"):
        rules.score_distress_thermometer(bad)


@pytest.mark.parametrize(("raw", "message"), [
    ("11", "out of range"), ("-1", "out of range"), ("3.5", "whole number"), ("high", "whole number"),
])
def test_dt_out_of_range_answers_are_refused_with_a_clear_message(raw: str, message: str) -> None:
    with pytest.raises(rules.AnswerError) as exc:
        rules.normalise_answers(DT, {"distress": [raw]})
    assert message in exc.value.field_errors["distress"][0]


def test_dt_3_is_negative_and_proposes_nothing_even_with_problems_ticked() -> None:
    outcome = _dt({"distress": ["3"], "problems-practical": ["finances"]})
    assert _score(outcome, "distress-thermometer").interpretation == rules.NEGATIVE
    assert not outcome.positive
    assert outcome.suggestions == ()
    # The ticked problem is still reported (Problem List: checked items per category).
    assert outcome.findings[0].need == "financial"


def test_dt_4_is_positive_and_routes_referrals_by_problem_list_domain() -> None:
    outcome = _dt({
        "distress": ["4"],
        "problems-emotional": ["worry", "sadness"],
        "problems-practical": ["finances", "transportation"],
        "problems-spiritual": ["meaning"],
        "problems-physical": ["eating", "pain"],
    })
    assert outcome.positive
    services = {s.service: s for s in outcome.suggestions}
    assert set(services) == {"psychology", "financial_counselling", "social_work", "chaplaincy", "dietitian"}
    assert services["psychology"].triggers == ("problems-emotional:worry", "problems-emotional:sadness")
    assert "Emotional: Worry or anxiety (Emotional well-being)" in services["psychology"].reasons
    assert services["social_work"].needs == ("transportation",)


def test_problem_list_is_reported_per_category_without_a_score() -> None:
    outcome = _dt({"distress": ["6"], "problems-physical": ["pain", "fatigue"], "problems-social": ["partner"]})
    physical = _score(outcome, "problem-list-physical")
    assert physical.text == "Pain; Fatigue"
    assert physical.interpretation == rules.NO_RESULT
    assert "no score" in physical.reasons[0]
    assert _score(outcome, "problem-list-social").text == "Relationship with spouse or partner"


def test_positive_dt_without_a_routing_problem_proposes_a_psychosocial_evaluation() -> None:
    outcome = _dt({"distress": ["7"], "problems-physical": ["pain"]})
    assert [s.service for s in outcome.suggestions] == ["social_work"]
    assert "psychosocial evaluation" in outcome.suggestions[0].reasons[0]


def test_program_added_inherited_risk_item_proposes_genetics() -> None:
    outcome = _dt({"distress": ["5"], "problems-program": ["inherited-risk"]})
    assert [s.service for s in outcome.suggestions] == ["genetics"]


def test_missing_dt_with_problems_proposes_nothing() -> None:
    outcome = _dt({"problems-emotional": ["fear"]})
    assert _score(outcome, "distress-thermometer").value is None
    assert outcome.suggestions == ()
    assert "No distress rating" in outcome.summary[0]


def test_unknown_item_and_option_are_refused() -> None:
    with pytest.raises(rules.AnswerError) as exc:
        rules.normalise_answers(DT, {"nope": ["1"], "problems-physical": ["levitation"]})
    assert set(exc.value.field_errors) == {"nope", "problems-physical"}


# --- CMS AHC HRSN core ------------------------------------------------------------------------------------------

ALL_NEGATIVE = {
    "living-situation": ["steady"], "housing-problems": ["none"], "food-worry": ["never-true"],
    "food-ran-out": ["never-true"], "transportation": ["no"], "utilities": ["no"], "safety-hurt": ["never"],
    "safety-insult": ["never"], "safety-threaten": ["never"], "safety-scream": ["never"],
}


def test_hrsn_all_negative() -> None:
    outcome = _hrsn(ALL_NEGATIVE)
    assert not outcome.positive
    assert {s.code: s.interpretation for s in outcome.scores} == {
        "hrsn-housing": rules.NEGATIVE, "hrsn-food": rules.NEGATIVE, "hrsn-transportation": rules.NEGATIVE,
        "hrsn-utilities": rules.NEGATIVE, "hrsn-safety": rules.NEGATIVE,
    }
    assert _score(outcome, "hrsn-safety").value == 4  # four "Never" answers = 1 + 1 + 1 + 1
    assert outcome.suggestions == ()


@pytest.mark.parametrize(("link", "answer", "domain"), [
    ("living-situation", "worried", "hrsn-housing"),
    ("living-situation", "not-steady", "hrsn-housing"),
    ("housing-problems", "mold", "hrsn-housing"),
    ("food-worry", "sometimes-true", "hrsn-food"),  # either food item Often/Sometimes true (Hunger Vital Sign)
    ("food-ran-out", "often-true", "hrsn-food"),
    ("transportation", "yes", "hrsn-transportation"),
    ("utilities", "yes", "hrsn-utilities"),
    ("utilities", "already-shut-off", "hrsn-utilities"),
])
def test_hrsn_underlined_answers_make_their_domain_positive(link: str, answer: str, domain: str) -> None:
    outcome = _hrsn({**ALL_NEGATIVE, link: [answer]})
    assert _score(outcome, domain).interpretation == rules.POSITIVE
    assert sum(s.interpretation == rules.POSITIVE for s in outcome.scores) == 1


@pytest.mark.parametrize(("answers", "total", "interpretation"), [
    (("sometimes", "sometimes", "rarely", "rarely"), 10, rules.NEGATIVE),  # 3 + 3 + 2 + 2 = 10 < 11
    (("sometimes", "sometimes", "sometimes", "rarely"), 11, rules.POSITIVE),  # 11: might not be safe
    (("frequently", "frequently", "frequently", "frequently"), 20, rules.POSITIVE),
    (("never", "fairly-often", "fairly-often", "never"), 10, rules.NEGATIVE),
])
def test_hrsn_safety_total_11_or_more_is_positive(answers: tuple[str, ...], total: int, interpretation: str) -> None:
    raw = dict(zip(("safety-hurt", "safety-insult", "safety-threaten", "safety-scream"), ([a] for a in answers),
                   strict=True))
    outcome = _hrsn({**ALL_NEGATIVE, **raw})
    safety = _score(outcome, "hrsn-safety")
    assert (safety.value, safety.interpretation, safety.loinc) == (total, interpretation, "95614-4")
    if interpretation == rules.POSITIVE:
        suggestion = next(s for s in outcome.suggestions if s.service == "social_work")
        assert suggestion.urgent


def test_hrsn_safety_incomplete_gives_no_total_unless_already_11() -> None:
    partial = _hrsn({"safety-hurt": ["sometimes"], "safety-insult": ["sometimes"]})
    assert _score(partial, "hrsn-safety").interpretation == rules.NO_RESULT
    assert _score(partial, "hrsn-safety").value is None
    certain = _hrsn({"safety-hurt": ["frequently"], "safety-insult": ["frequently"], "safety-threaten": ["rarely"]})
    assert _score(certain, "hrsn-safety").interpretation == rules.POSITIVE  # 12 already, missing adds >= 1
    assert _score(certain, "hrsn-safety").value is None


def test_hrsn_unanswered_domain_has_no_result_but_a_positive_half_counts() -> None:
    outcome = _hrsn({"food-worry": ["never-true"]})
    assert _score(outcome, "hrsn-food").interpretation == rules.NO_RESULT
    outcome = _hrsn({"food-ran-out": ["sometimes-true"]})
    assert _score(outcome, "hrsn-food").interpretation == rules.POSITIVE


def test_hrsn_none_of_the_above_is_exclusive() -> None:
    with pytest.raises(rules.AnswerError) as exc:
        rules.normalise_answers(HRSN, {"housing-problems": ["none", "mold"]})
    assert "cannot be chosen together" in exc.value.field_errors["housing-problems"][0]


def test_hrsn_single_choice_refuses_two_answers() -> None:
    with pytest.raises(rules.AnswerError):
        rules.normalise_answers(HRSN, {"transportation": ["yes", "no"]})


def test_hrsn_positive_domains_route_to_services() -> None:
    outcome = _hrsn({**ALL_NEGATIVE, "food-worry": ["often-true"], "utilities": ["yes"],
                     "transportation": ["yes"]})
    services = {s.service: s for s in outcome.suggestions}
    assert set(services) == {"social_work", "financial_counselling"}
    assert services["social_work"].needs == ("food", "transportation")
    assert services["financial_counselling"].needs == ("utilities",)
    assert not services["social_work"].urgent
    assert outcome.summary == ("Positive social-needs screen: Food, Transportation, Utilities.",)
