"""Pure rules of shared decisions and patient experience: how each published measure is scored.

No I/O.  Every rule cites its published source beside it; where a publisher gives no rule (for example a
missing-item rule), the rule here is the strictest one (no score) and says so.  The instruments' data files
(``instruments/data/decision-support`` and ``instruments/data/experience``, provenance in
``instruments/data/PROVENANCE.md``) name the scoring function of this module in their ``scoring`` field;
``SCORERS`` maps that name to the function.

Sources:
- SURE test: Légaré F et al., "Are you SURE? Assessing patient decisional conflict with a 4-item screening
  test", Can Fam Physician 2010;56(8):e308-14 (PMID 20705870); O'Connor AM, User Manual - Decisional
  Conflict Scale (OHRI, 1993, updated 2010) §4.4, https://decisionaid.ohri.ca/eval_dcs.html .
- CollaboRATE: Elwyn G, Barr PJ et al., official scoring instructions,
  http://www.glynelwyn.com/scoring-collaborate.html ; Barr PJ et al., J Med Internet Res 2014;16(1):e2.
- SDM-Q-9: Kriston L et al., "The 9-item Shared Decision Making Questionnaire (SDM-Q-9)", Patient Educ
  Couns 2010;80(1):94-99 (PMID 19879711).
- Decisional Conflict Scale: O'Connor AM, User Manual - Decisional Conflict Scale (OHRI, updated 2010);
  O'Connor AM, Med Decis Making 1995;15:25-30.
- CAHPS top-box scoring: AHRQ CAHPS Cancer Care Survey,
  https://www.ahrq.gov/cahps/surveys-guidance/cancer/index.html , and the CAHPS Analysis Program
  instructions.
- Net Promoter Score: Reichheld FF, "The One Number You Need to Grow", Harv Bus Rev 2003;81(12):46-54.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

Answer = int | None
Answers = Mapping[str, Answer]


@dataclass(frozen=True)
class MeasureScore:
    """One score of one response: the value (None when it cannot be scored) and why, in words."""

    code: str
    label: str
    value: float | None
    max_value: float
    flag: bool = False  # the published threshold is met (e.g. SURE decisional conflict)
    note: str = ""


def _answered(answers: Answers, items: Sequence[str]) -> list[int] | None:
    """The answers to ``items`` in order, or None when any is missing."""
    values = [answers.get(link) for link in items]
    if any(v is None for v in values):
        return None
    return [v for v in values if v is not None]


# --- SURE -------------------------------------------------------------------------------------------------

SURE_ITEMS = ("sure", "understand", "risk-benefit", "encouragement")
# Légaré 2010: Yes = 1, No = 0, score = sum (0-4); "a score <= 3 indicates decisional conflict"; 4 = none.
SURE_CONFLICT_AT_MOST = 3


def sure_score(answers: Answers) -> MeasureScore:
    """The SURE test (Légaré et al., Can Fam Physician 2010;56(8):e308-14): four Yes (1) / No (0) items,
    summed 0-4; a score of 3 or less flags decisional conflict.  The authors define no missing-item rule:
    a test with an unanswered item is not scored (no score is ever guessed)."""
    values = _answered(answers, SURE_ITEMS)
    if values is None:
        return MeasureScore("sure", "SURE", None, 4, note="Not scored: every one of the four items must be answered.")
    total = sum(values)
    conflict = total <= SURE_CONFLICT_AT_MOST
    note = "3 or less: decisional conflict (Légaré 2010)." if conflict else "4: no decisional conflict."
    return MeasureScore("sure", "SURE", total, 4, flag=conflict, note=note)


# --- CollaboRATE --------------------------------------------------------------------------------------------

COLLABORATE_ITEMS = ("understand", "listen", "include")
COLLABORATE_TOP = 9  # items are 0 "No effort was made" ... 9 "Every effort was made"
# glynelwyn.com scoring page: a clinician's (or a clinic's) score is calculated only from 25 or more
# complete encounters.
COLLABORATE_MIN_ENCOUNTERS = 25


def collaborate_encounter(answers: Answers) -> MeasureScore:
    """One CollaboRATE response: its mean (0-9) and whether it is a top score (all three items 9).
    An encounter with any item missing is excluded (official scoring instructions)."""
    values = _answered(answers, COLLABORATE_ITEMS)
    if values is None:
        return MeasureScore("collaborate", "CollaboRATE", None, 9,
                            note="Excluded: an encounter with a missing item is not scored.")
    top = all(v == COLLABORATE_TOP for v in values)
    return MeasureScore("collaborate", "CollaboRATE", sum(values) / len(values), 9, flag=top,
                        note="Top score (every item 9)." if top else "Not a top score.")


def complete_encounters(responses: Sequence[Answers]) -> list[list[int]]:
    return [v for v in (_answered(r, COLLABORATE_ITEMS) for r in responses) if v is not None]


def collaborate_reportable(complete: int) -> tuple[bool, str]:
    """May a clinician's (or clinic's) CollaboRATE figure be reported?  Only from 25 complete encounters."""
    if complete >= COLLABORATE_MIN_ENCOUNTERS:
        return True, f"{complete} complete encounters."
    return False, (f"Not reported: {complete} complete encounters; CollaboRATE's authors require "
                   f"at least {COLLABORATE_MIN_ENCOUNTERS}.")


def collaborate_top_score(responses: Sequence[Answers]) -> MeasureScore:
    """Top Score (recommended): % of complete encounters with all three items 9, 0-100; None below 25."""
    complete = complete_encounters(responses)
    ok, why = collaborate_reportable(len(complete))
    if not ok:
        return MeasureScore("collaborate-top", "CollaboRATE top score", None, 100, note=why)
    tops = sum(1 for v in complete if all(x == COLLABORATE_TOP for x in v))
    return MeasureScore("collaborate-top", "CollaboRATE top score", 100 * tops / len(complete), 100, note=why)


def collaborate_mean_score(responses: Sequence[Answers]) -> MeasureScore:
    """Mean Score: the mean over complete encounters of each encounter's mean of the 3 items, 0-9."""
    complete = complete_encounters(responses)
    ok, why = collaborate_reportable(len(complete))
    if not ok:
        return MeasureScore("collaborate-mean", "CollaboRATE mean score", None, 9, note=why)
    means = [sum(v) / len(v) for v in complete]
    return MeasureScore("collaborate-mean", "CollaboRATE mean score", sum(means) / len(means), 9, note=why)


# --- SDM-Q-9 ----------------------------------------------------------------------------------------------

SDM_Q9_ITEMS = tuple(f"item-{n}" for n in range(1, 10))  # each 0 "completely disagree" ... 5 "completely agree"


def sdm_q9_score(answers: Answers) -> MeasureScore:
    """SDM-Q-9 (Kriston et al., Patient Educ Couns 2010;80(1):94-99): raw score = sum of the nine items (0-45),
    transformed to 0-100 as raw x 20/9 (= raw / 45 x 100).  The authors' missing-item rule could not be read
    in the primary text: a response with an unanswered item is not scored."""
    values = _answered(answers, SDM_Q9_ITEMS)
    if values is None:
        return MeasureScore("sdm-q-9", "SDM-Q-9", None, 100,
                            note="Not scored: every one of the nine items must be answered.")
    raw = sum(values)
    return MeasureScore("sdm-q-9", "SDM-Q-9", raw * 20 / 9, 100, note=f"Raw score {raw} of 45.")


# --- Decisional Conflict Scale ---------------------------------------------------------------------------


def dcs_scale(code: str, label: str, answers: Answers, items: Sequence[str]) -> MeasureScore:
    """A Decisional Conflict Scale score, 0 (no conflict) to 100: (sum of its items / number of items) x 25,
    items coded 0 (strongly agree) to 4 (strongly disagree) (O'Connor, DCS User Manual, 2010, statement
    format).  The manual's missing-item rule could not be read: a scale with an unanswered item is not scored.
    The items of each subscale are data (the licensed form's version), given by the caller."""
    values = _answered(answers, items)
    if values is None or not values:
        return MeasureScore(code, label, None, 100, note="Not scored: every item of the scale must be answered.")
    return MeasureScore(code, label, sum(values) / len(values) * 25, 100)


# --- CAHPS top-box --------------------------------------------------------------------------------------


def top_box_percent(responses: Sequence[str | None], top: Sequence[str]) -> tuple[float | None, int]:
    """An item's top-box %: the number choosing the most positive category (``top``, e.g. "Always", or
    "9" and "10" on a 0-10 rating) / the number of valid responses x 100 (CAHPS convention).  Skipped or
    ineligible responses (None) are not in the denominator.  ``(percent, n)``; percent is None when n = 0."""
    valid = [r for r in responses if r is not None]
    if not valid:
        return None, 0
    return 100 * sum(1 for r in valid if r in top) / len(valid), len(valid)


def composite_top_box(item_percents: Sequence[float | None]) -> float | None:
    """A composite's top-box score: the unweighted mean of its items' top-box % (CAHPS Analysis Program
    convention).  None when an item has no valid response (no item is silently dropped)."""
    if not item_percents or any(p is None for p in item_percents):
        return None
    return sum(p for p in item_percents if p is not None) / len(item_percents)


# --- Net Promoter Score ----------------------------------------------------------------------------------

NPS_PROMOTER_FROM, NPS_DETRACTOR_TO = 9, 6  # promoters 9-10, passives 7-8, detractors 0-6 (Reichheld 2003)
# Issue #14: a result cell with fewer than 11 responses is suppressed (the program's reporting rule).
REPORT_MIN_RESPONSES = 11


def cell_reportable(n: int) -> bool:
    """A dashboard cell (a period and service) is shown only from 11 responses; under 11 it is suppressed."""
    return n >= REPORT_MIN_RESPONSES


def net_promoter_score(ratings: Sequence[int | None]) -> MeasureScore:
    """NPS = % promoters (9-10) - % detractors (0-6), -100 to +100; passives (7-8) count in the denominator
    only (Reichheld, HBR 2003).  Unanswered ratings are not counted.  Suppressed (None) under 11 responses."""
    valid = [r for r in ratings if r is not None]
    n = len(valid)
    if not cell_reportable(n):
        return MeasureScore("nps", "Net Promoter Score", None, 100,
                            note=f"Suppressed: {n} responses (fewer than {REPORT_MIN_RESPONSES}).")
    promoters = sum(1 for r in valid if r >= NPS_PROMOTER_FROM)
    detractors = sum(1 for r in valid if r <= NPS_DETRACTOR_TO)
    return MeasureScore("nps", "Net Promoter Score", 100 * (promoters - detractors) / n, 100,
                        note=f"{n} responses: {promoters} promoters, {detractors} detractors.")


def nps_rating(answers: Answers) -> MeasureScore:
    """One response's 0-10 rating and whether it is a promoter (9-10); the NPS itself is a cell's figure."""
    rating = answers.get("recommend")
    if rating is None:
        return MeasureScore("nps-rating", "Likelihood to recommend", None, 10, note="Not answered.")
    kind = ("promoter" if rating >= NPS_PROMOTER_FROM else "detractor" if rating <= NPS_DETRACTOR_TO
            else "passive")
    return MeasureScore("nps-rating", "Likelihood to recommend", rating, 10, flag=kind == "promoter", note=kind)


# --- dispatch -----------------------------------------------------------------------------------------------

Scorer = Callable[[Answers], MeasureScore]

# One response's score, by the ``scoring`` name of the instrument's data file.  CollaboRATE's reported
# figures (top and mean score) are computed over a clinician's encounters by ``collaborate_top_score`` /
# ``collaborate_mean_score``; NPS over a cell's responses by ``net_promoter_score``.
SCORERS: dict[str, Scorer] = {
    "sure": sure_score,
    "collaborate": collaborate_encounter,
    "sdm_q9": sdm_q9_score,
    "nps": nps_rating,
}


def score(scoring: str, answers: Answers) -> MeasureScore:
    if scoring not in SCORERS:
        raise ValueError(f"Unknown scoring method {scoring}")
    return SCORERS[scoring](answers)
