"""Scoring of the shared-decision and patient-experience measures: vectors from each published rule (the
source is cited in each test), the missing-item rules and the boundaries."""

from __future__ import annotations

import pytest

from oncoliaison.decisions import rules


def _sure(*values: int | None) -> dict[str, int | None]:
    return dict(zip(rules.SURE_ITEMS, values, strict=True))


# --- SURE: Légaré et al., Can Fam Physician 2010;56(8):e308-14 -----------------------------------------


def test_sure_three_flags_decisional_conflict_and_four_does_not() -> None:
    # Légaré 2010: Yes = 1, No = 0, summed; "a score <= 3 indicates decisional conflict".
    three = rules.sure_score(_sure(1, 1, 1, 0))
    assert (three.value, three.flag) == (3, True)
    four = rules.sure_score(_sure(1, 1, 1, 1))
    assert (four.value, four.flag) == (4, False)
    assert rules.sure_score(_sure(0, 0, 0, 0)).flag


def test_sure_with_an_unanswered_item_is_not_scored() -> None:
    # Légaré 2010 gives no missing-item rule: no score is guessed.
    result = rules.sure_score(_sure(1, 1, None, 1))
    assert result.value is None and not result.flag


# --- CollaboRATE: official scoring instructions, glynelwyn.com/scoring-collaborate.html -------------------


def _enc(a: int | None, b: int | None, c: int | None) -> dict[str, int | None]:
    return dict(zip(rules.COLLABORATE_ITEMS, (a, b, c), strict=True))


def test_collaborate_top_and_mean_score_over_complete_encounters() -> None:
    # Top score: % of complete encounters with all three items 9; mean score: mean of the encounter means.
    responses = [_enc(9, 9, 9)] * 20 + [_enc(9, 9, 8)] * 5 + [_enc(9, None, 9)] * 3
    top = rules.collaborate_top_score(responses)
    assert top.value == pytest.approx(80.0)  # 20 of 25 complete encounters; the 3 incomplete excluded
    mean = rules.collaborate_mean_score(responses)
    assert mean.value == pytest.approx((20 * 9 + 5 * 26 / 3) / 25)


def test_collaborate_is_reported_only_from_25_complete_encounters() -> None:
    # glynelwyn.com: calculate for a clinician only with 25 or more complete encounters.
    assert rules.collaborate_reportable(24)[0] is False
    assert rules.collaborate_reportable(25) == (True, "25 complete encounters.")
    incomplete = [_enc(9, 9, 9)] * 24 + [_enc(None, 9, 9)]
    assert rules.collaborate_top_score(incomplete).value is None
    assert rules.collaborate_mean_score(incomplete).value is None
    assert "at least 25" in rules.collaborate_top_score(incomplete).note


def test_one_collaborate_encounter() -> None:
    assert rules.collaborate_encounter(_enc(9, 9, 9)).flag
    seven = rules.collaborate_encounter(_enc(9, 3, 9))
    assert (seven.value, seven.flag) == (7, False)
    assert rules.collaborate_encounter(_enc(9, None, 9)).value is None


# --- SDM-Q-9: Kriston et al., Patient Educ Couns 2010;80(1):94-99 ---------------------------------------


def _sdm(values: list[int | None]) -> dict[str, int | None]:
    return dict(zip(rules.SDM_Q9_ITEMS, values, strict=True))


def test_sdm_q9_transforms_the_raw_sum_to_0_100() -> None:
    # Raw = sum of nine 0-5 items (0-45); transformed = raw x 20/9.
    assert rules.sdm_q9_score(_sdm([5] * 9)).value == pytest.approx(100)
    assert rules.sdm_q9_score(_sdm([0] * 9)).value == 0
    # Raw 42 -> 93.3, a per-surgeon figure published in the Heirman thesis appendix (instruments spec §6d).
    assert rules.sdm_q9_score(_sdm([5, 5, 5, 5, 5, 5, 4, 4, 4])).value == pytest.approx(93.33, abs=0.01)
    assert rules.sdm_q9_score(_sdm([2, 2, 2, 2, 2, 2, 2, 2, 1])).value == pytest.approx(37.78, abs=0.01)  # 17/45


def test_sdm_q9_with_an_unanswered_item_is_not_scored() -> None:
    assert rules.sdm_q9_score(_sdm([5] * 8 + [None])).value is None


# --- Decisional Conflict Scale: O'Connor, DCS User Manual (OHRI, updated 2010) ------------------------------


def test_dcs_scale_is_the_item_mean_times_25() -> None:
    # (sum / number of items) x 25, items 0 (strongly agree) to 4 (strongly disagree): 0-100.
    items = [f"dcs-{n}" for n in range(1, 17)]
    assert rules.dcs_scale("dcs", "Total", dict.fromkeys(items, 4), items).value == 100
    assert rules.dcs_scale("dcs", "Total", dict.fromkeys(items, 0), items).value == 0
    answers = {**dict.fromkeys(items, 1), "dcs-1": 3}  # sum 18 -> 18/16 x 25
    assert rules.dcs_scale("dcs", "Total", answers, items).value == pytest.approx(28.125)
    assert rules.dcs_scale("dcs", "Total", {**answers, "dcs-2": None}, items).value is None


# --- CAHPS top-box: AHRQ CAHPS Cancer Care Survey and the CAHPS Analysis Program instructions -------------


def test_top_box_counts_the_most_positive_category_over_valid_responses() -> None:
    percent, n = rules.top_box_percent(["Always", "Usually", "Always", None, "Never"], top=("Always",))
    assert (percent, n) == (50.0, 4)  # the skipped response is not in the denominator
    rating, n = rules.top_box_percent(["10", "9", "8", "7"], top=("9", "10"))  # 0-10 ratings: 9-10
    assert (rating, n) == (50.0, 4)
    assert rules.top_box_percent([None, None], top=("Always",)) == (None, 0)


def test_composite_is_the_unweighted_mean_of_its_items() -> None:
    assert rules.composite_top_box([50.0, 70.0, 90.0]) == pytest.approx(70.0)
    assert rules.composite_top_box([50.0, None]) is None


# --- Net Promoter Score: Reichheld, HBR 2003; suppression under 11 responses (issue #14) ------------------


def test_nps_is_promoters_minus_detractors() -> None:
    ratings = [10, 9, 9, 9, 8, 7, 6, 0, 5, 10, 3, None]  # 5 promoters, 2 passives, 4 detractors of 11
    result = rules.net_promoter_score(ratings)
    assert result.value == pytest.approx(100 * (5 - 4) / 11)


def test_nps_cells_under_11_responses_are_suppressed() -> None:
    assert rules.net_promoter_score([10] * 10 + [None]).value is None
    assert rules.net_promoter_score([10] * 11).value == 100
    assert not rules.cell_reportable(10) and rules.cell_reportable(11)


def test_the_scorers_dispatch_by_the_data_files_scoring_name() -> None:
    assert rules.score("sure", _sure(1, 1, 1, 1)).value == 4
    assert rules.score("nps", {"recommend": 7}).note == "passive"
    with pytest.raises(ValueError, match="Unknown scoring"):
        rules.score("dcs", {})
