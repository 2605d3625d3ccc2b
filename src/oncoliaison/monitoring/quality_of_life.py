"""Pure rules of quality of life: the scale scores of EORTC QLQ-C30 v3.0 and the T-scores of PROMIS-29 v2.1.

No I/O.  Each function takes the version's definition (the data file as loaded from
``instruments/data/quality-of-life``; provenance in ``instruments/data/PROVENANCE.md``) and one response's
coded answers (item code -> code as printed on the form, None when unanswered).  ``QOL_SCORERS`` maps the
data file's ``scoring`` name to its function.

Sources:
- EORTC QLQ-C30: Fayers PM et al., *EORTC QLQ-C30 Scoring Manual*, 3rd ed., EORTC 2001 (raw score, linear
  transformation per scale type, the half-items rule); Giesinger JM et al., J Clin Epidemiol 2016;69:79-88
  (the summary score).  The scale-item mapping agrees in three public implementations (PROscorer
  ``qlq_c30``, awell-score, the MII FHIR IG PRO scoring page).
- PROMIS-29: HealthMeasures scoring instructions,
  https://www.healthmeasures.net/score-and-interpret/calculate-scores/scoring-instructions (raw sum, the
  form's raw-to-T table, every item of a 4-item form answered for a score).  Tables only for the domains
  whose published table is available (the others stay unscored: see the data file).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Answers = Mapping[str, int | None]

FUNCTIONAL, SYMPTOM, QOL = "functional", "symptom", "qol"


@dataclass(frozen=True)
class ScaleScore:
    """One scale's score (None when the rule does not allow one), and why in words."""

    code: str
    label: str
    value: float | None
    note: str = ""


# --- EORTC QLQ-C30 -------------------------------------------------------------------------------------------

# Giesinger 2016: the summary score is the mean of these 13 scales, symptom scales reversed (100 - score);
# global health status (QL2) and financial difficulties (FI) are not in it.
SUMMARY_FUNCTIONAL = ("PF2", "RF2", "SF", "EF", "CF")
SUMMARY_SYMPTOMS = ("FA", "PA", "NV", "DY", "SL", "AP", "CO", "DI")


def qlq_c30_raw_score(values: Sequence[int | None]) -> float | None:
    """The raw score: the mean of the answered items, when at least half of the scale's items are answered
    (scoring manual: equivalent to imputing the mean of the answered items); otherwise missing.  A single-item
    scale is missing when its item is."""
    answered = [v for v in values if v is not None]
    if not answered or 2 * len(answered) < len(values):
        return None
    return sum(answered) / len(answered)


def qlq_c30_transform(raw: float, scale_type: str, item_range: int) -> float:
    """Linear transformation to 0-100 (scoring manual): functional S = (1 - (RS - 1)/range) x 100 (high is
    better functioning); symptom and global health S = ((RS - 1)/range) x 100.  Range: 3 for the 1-4 items,
    6 for the 1-7 items.  Full precision (the manual specifies no rounding)."""
    if scale_type == FUNCTIONAL:
        return (1 - (raw - 1) / item_range) * 100
    return (raw - 1) / item_range * 100


def qlq_c30_scores(definition: Mapping[str, Any], answers: Answers) -> list[ScaleScore]:
    """The 15 scale scores, then the summary score."""
    items = {i["link_id"]: i for i in definition["items"]}
    out: list[ScaleScore] = []
    by_code: dict[str, float | None] = {}
    for scale in definition["scales"]:
        raw = qlq_c30_raw_score([answers.get(link) for link in scale["items"]])
        first = items[scale["items"][0]]
        if raw is None:
            value, note = None, "Not scored: fewer than half of the scale's items answered."
        else:
            value, note = qlq_c30_transform(raw, scale["type"], first["max"] - first["min"]), ""
        by_code[scale["code"]] = value
        out.append(ScaleScore(scale["code"], scale["label"], value, note))
    out.append(qlq_c30_summary(by_code))
    return out


def qlq_c30_summary(scores: Mapping[str, float | None]) -> ScaleScore:
    """Summary score (Giesinger 2016): (PF2 + RF2 + SF + EF + CF + the eight symptom scales each as 100 minus
    its score) / 13, only when all 13 scale scores exist."""
    parts = [scores.get(c) for c in SUMMARY_FUNCTIONAL] + [
        None if (s := scores.get(c)) is None else 100 - s for c in SUMMARY_SYMPTOMS]
    if any(p is None for p in parts):
        return ScaleScore("SumSc", "Summary score", None,
                          "Not scored: one of its 13 scales has no score.")
    return ScaleScore("SumSc", "Summary score", sum(p for p in parts if p is not None) / len(parts))


# --- PROMIS-29 -------------------------------------------------------------------------------------------------


def promis_t_score(domain: Mapping[str, Any], answers: Answers) -> ScaleScore:
    """A domain's T-score: the raw sum of its four item codes (4-20) looked up in the form's published
    raw-to-T table.  With an item unanswered no score is given (HealthMeasures: a precise score needs every
    item of a 4-item form; prorating is not used).  A domain without a sourced table has no T-score."""
    table: Mapping[str, float] | None = domain.get("t_scores")
    if table is None:
        return ScaleScore(domain["code"], domain["label"], None,
                          "No T-score: the published look-up table for this domain is not available here.")
    values = [answers.get(link) for link in domain["items"]]
    if any(v is None for v in values):
        return ScaleScore(domain["code"], domain["label"], None, "Not scored: every item must be answered.")
    raw = sum(v for v in values if v is not None)
    return ScaleScore(domain["code"], domain["label"], table[str(raw)], f"Raw score {raw}.")


def promis_29_scores(definition: Mapping[str, Any], answers: Answers) -> list[ScaleScore]:
    """Each domain's T-score, then pain intensity (0-10) as answered, never converted (HealthMeasures)."""
    out = [promis_t_score(d, answers) for d in definition["domains"]]
    pain = answers.get("pain-intensity")
    out.append(ScaleScore("pain-intensity", "Pain intensity", None if pain is None else float(pain),
                          "" if pain is not None else "Not answered."))
    return out


QOL_SCORERS: dict[str, Callable[[Mapping[str, Any], Answers], list[ScaleScore]]] = {
    "eortc_qlq_c30": qlq_c30_scores,
    "promis_29": promis_29_scores,
}


def score(scoring: str, definition: Mapping[str, Any], answers: Answers) -> list[ScaleScore]:
    if scoring not in QOL_SCORERS:
        raise ValueError(f"Unknown scoring method {scoring}")
    return QOL_SCORERS[scoring](definition, answers)
