"""Pure rules for needs assessments: instrument definitions, answer validation, scoring, referral suggestions.

No I/O.  Every scorer returns its reasons, not just its answer, so that the result page, the FHIR Observation
and the audit can say *why*.

Sources (cited again beside each rule and in the tests):

* NCCN Distress Thermometer and Problem List — NCCN Guidelines, Distress Management (DIS-A); Donovan KA et al.,
  JNCCN 2022;20(1):96.  Score = the integer circled (0-10), no transformation, missing = no score (do not
  impute); **≥ 4 = clinically significant distress** (further evaluation and referral by Problem List domain).
  The Problem List has no score: report the checked items per category.  See /work/shared/specs/instruments.md §1.
* CMS Accountable Health Communities Health-Related Social Needs Screening Tool (AHC HRSN), core questions —
  https://www.cms.gov/priorities/innovation/files/worksheets/ahcm-screeningtool.pdf ; Billioux A et al., NAM
  Perspectives 2017.  A domain is positive when an underlined (positive) answer is chosen; interpersonal safety
  is positive when the four HITS items (Never 1 … Frequently 5) add up to **11 or more** (Sherin KM et al., Fam
  Med 1998;30(7):508-12).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# --- vocabulary ---------------------------------------------------------------------------------------

# Needs an answer can reveal.  Instrument definitions tag answer options with these codes; care-plan rules
# and the resource directory use the same codes.
NEEDS: dict[str, str] = {
    "symptoms": "Physical symptoms",
    "nutrition": "Nutrition and eating",
    "tobacco": "Tobacco use",
    "emotional": "Emotional well-being",
    "family-social": "Family and social relationships",
    "communication": "Communication with the care team",
    "fertility": "Fertility",
    "caregiving": "Self-care and caring for others",
    "work": "Work or school",
    "housing": "Housing",
    "financial": "Finances",
    "insurance": "Insurance",
    "transportation": "Transportation",
    "lodging": "Lodging near treatment",
    "childcare": "Child care",
    "food": "Food",
    "utilities": "Utilities",
    "safety": "Personal safety",
    "medication-access": "Access to medicine",
    "decision-support": "Treatment decisions",
    "spiritual": "Spiritual or religious concerns",
    "genetics": "Inherited cancer risk",
    "language": "Language and interpreting",
    "education": "Understanding the diagnosis and treatment",
}

SERVICES: dict[str, str] = {
    "social_work": "Social work",
    "psychology": "Psychology / psychiatry",
    "dietitian": "Dietitian",
    "chaplaincy": "Chaplaincy / spiritual care",
    "financial_counselling": "Financial counselling",
    "genetics": "Genetic counselling",
}

ITEM_TYPES = frozenset({"integer", "choice", "multi-choice"})

# NCCN: "DT ≥ 4 means clinically significant (moderate to severe) distress" (DIS-A; instruments.md §1).
DT_CUTOFF = 4
DT_MIN, DT_MAX = 0, 10
# AHC HRSN: "A score of 11 or more when the numerical values for answers to questions 7-10 are added shows that
# the person might not be safe" (CMS AHC HRSN screening tool guide; HITS, Sherin 1998).
SAFETY_CUTOFF = 11


class DefinitionError(ValueError):
    """An instrument definition file is malformed."""


class AnswerError(ValueError):
    """Answers do not fit the instrument; ``field_errors`` says which item and why."""

    def __init__(self, message: str, field_errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.field_errors = field_errors


# --- definitions ----------------------------------------------------------------------------------------


def check_definition(defn: Mapping[str, Any]) -> None:
    """Raise DefinitionError unless ``defn`` is a usable instrument definition."""
    problems: list[str] = []
    for key in ("code", "version", "title", "scoring", "items"):
        if not defn.get(key):
            problems.append(f"missing '{key}'")
    if defn.get("scoring") and defn["scoring"] not in SCORERS:
        problems.append(f"unknown scoring '{defn['scoring']}' (known: {', '.join(sorted(SCORERS))})")
    seen: set[str] = set()
    for item in defn.get("items") or []:
        link = item.get("link_id", "")
        if not link or link in seen:
            problems.append(f"item link_id '{link}' is missing or repeated")
        seen.add(link)
        if item.get("type") not in ITEM_TYPES:
            problems.append(f"item '{link}': type must be one of {sorted(ITEM_TYPES)}")
        if not item.get("text"):
            problems.append(f"item '{link}': missing text")
        if item.get("type") == "integer" and not (
            isinstance(item.get("min"), int) and isinstance(item.get("max"), int) and item["min"] < item["max"]
        ):
            problems.append(f"item '{link}': an integer item needs min < max")
        if item.get("type") in {"choice", "multi-choice"}:
            codes = [o.get("code") for o in item.get("options") or []]
            if not codes or len(set(codes)) != len(codes) or not all(codes):
                problems.append(f"item '{link}': options need unique codes")
            for opt in item.get("options") or []:
                if not opt.get("display"):
                    problems.append(f"item '{link}' option '{opt.get('code')}': missing display")
                if opt.get("need") and opt["need"] not in NEEDS:
                    problems.append(f"item '{link}' option '{opt.get('code')}': unknown need '{opt['need']}'")
                for service in opt.get("referrals", []):
                    if service not in SERVICES:
                        problems.append(f"item '{link}' option '{opt.get('code')}': unknown service '{service}'")
            if item.get("exclusive") and item["exclusive"] not in codes:
                problems.append(f"item '{link}': exclusive option '{item['exclusive']}' is not an option")
    if problems:
        raise DefinitionError("; ".join(problems))


def items_of(defn: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {item["link_id"]: item for item in defn["items"]}


def option_of(item: Mapping[str, Any], code: str) -> Mapping[str, Any]:
    options: list[Mapping[str, Any]] = item.get("options", [])
    for opt in options:
        if opt["code"] == code:
            return opt
    raise KeyError(code)


# --- answers ----------------------------------------------------------------------------------------

Answers = dict[str, list[Any]]  # link_id -> [int] for integer items, [code, ...] for choice items


def normalise_answers(defn: Mapping[str, Any], raw: Mapping[str, Sequence[str | int]]) -> Answers:
    """Check raw answers (as submitted: strings) against the definition.

    Unanswered items are simply absent.  Raises AnswerError naming each bad item: an unknown item, a number out
    of range or not a whole number, an unknown option, several answers to a single-choice item, or an exclusive
    option ("None of the above") chosen together with another.
    """
    items = items_of(defn)
    out: Answers = {}
    errors: dict[str, list[str]] = {}
    for link_id, values in raw.items():
        cleaned = [str(v).strip() for v in values if str(v).strip() != ""]
        if not cleaned:
            continue
        item = items.get(link_id)
        if item is None:
            errors.setdefault(link_id, []).append("This question is not part of the instrument.")
            continue
        kind = item["type"]
        if kind == "integer":
            if len(cleaned) > 1:
                errors.setdefault(link_id, []).append("Give one number.")
                continue
            try:
                number = int(cleaned[0])
            except ValueError:
                errors.setdefault(link_id, []).append(
                    f"Give a whole number from {item['min']} to {item['max']}."
                )
                continue
            if not item["min"] <= number <= item["max"]:
                errors.setdefault(link_id, []).append(
                    f"{number} is out of range: give a whole number from {item['min']} to {item['max']}."
                )
                continue
            out[link_id] = [number]
            continue
        codes = {o["code"] for o in item["options"]}
        unknown = [c for c in cleaned if c not in codes]
        if unknown:
            errors.setdefault(link_id, []).append(f"Unknown answer: {', '.join(unknown)}.")
            continue
        if kind == "choice" and len(set(cleaned)) > 1:
            errors.setdefault(link_id, []).append("Choose one answer.")
            continue
        chosen = list(dict.fromkeys(cleaned))
        exclusive = item.get("exclusive")
        if exclusive and exclusive in chosen and len(chosen) > 1:
            label = option_of(item, exclusive)["display"]
            errors.setdefault(link_id, []).append(f"'{label}' cannot be chosen together with another answer.")
            continue
        out[link_id] = chosen
    if errors:
        raise AnswerError("Some answers are not valid.", errors)
    # Keep the instrument's item order.
    return {k: out[k] for k in items if k in out}


# --- results ------------------------------------------------------------------------------------------

POSITIVE, NEGATIVE, NO_RESULT = "POS", "NEG", ""


@dataclass(frozen=True)
class Score:
    code: str
    display: str
    value: int | None
    interpretation: str  # POS | NEG | "" (no result)
    reasons: tuple[str, ...]
    loinc: str = ""
    text: str = ""


@dataclass(frozen=True)
class Finding:
    """A need revealed by an answer (a ticked problem, a positive domain)."""

    need: str
    label: str
    trigger: str  # "link_id:code" or a score code
    referrals: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    service: str
    reasons: tuple[str, ...]
    triggers: tuple[str, ...]
    needs: tuple[str, ...]
    urgent: bool = False


@dataclass(frozen=True)
class Outcome:
    scores: tuple[Score, ...]
    findings: tuple[Finding, ...]
    suggestions: tuple[Suggestion, ...]
    summary: tuple[str, ...] = field(default=())

    @property
    def positive(self) -> bool:
        return any(s.interpretation == POSITIVE for s in self.scores)

    @property
    def needs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f.need for f in self.findings))


def _checked(defn: Mapping[str, Any], answers: Answers, link_id: str) -> list[Mapping[str, Any]]:
    item = items_of(defn)[link_id]
    return [option_of(item, code) for code in answers.get(link_id, [])]


def suggestions_from(findings: Iterable[Finding], *, urgent_needs: frozenset[str] = frozenset()) -> tuple[Suggestion, ...]:
    """Group the referral services of findings into one suggestion per service, with every reason."""
    by_service: dict[str, dict[str, list[str]]] = {}
    for f in findings:
        for service in f.referrals:
            entry = by_service.setdefault(service, {"reasons": [], "triggers": [], "needs": []})
            entry["reasons"].append(f"{f.label} ({NEEDS.get(f.need, f.need)})")
            entry["triggers"].append(f.trigger)
            entry["needs"].append(f.need)
    return tuple(
        Suggestion(
            service=service,
            reasons=tuple(dict.fromkeys(e["reasons"])),
            triggers=tuple(dict.fromkeys(e["triggers"])),
            needs=tuple(dict.fromkeys(e["needs"])),
            urgent=bool(urgent_needs & set(e["needs"])),
        )
        for service, e in sorted(by_service.items(), key=lambda kv: list(SERVICES).index(kv[0]))
    )


# --- NCCN Distress Thermometer and Problem List ---------------------------------------------------------------


def score_distress_thermometer(value: int | None) -> Score:
    """The DT score exactly as NCCN defines it (DIS-A; instruments.md §1).

    * the integer circled, 0-10, no transformation;
    * missing → no score, never imputed;
    * ≥ 4 → positive (clinically significant distress), < 4 → negative (mild; usually managed by the primary
      oncology team).
    """
    if value is None:
        return Score("distress-thermometer", "Distress Thermometer", None, NO_RESULT,
                     ("No distress rating was given, so there is no score (NCCN: a missing rating is not imputed).",))
    if isinstance(value, bool) or not isinstance(value, int) or not DT_MIN <= value <= DT_MAX:
        raise ValueError(f"A Distress Thermometer rating is a whole number from {DT_MIN} to {DT_MAX}.")
    if value >= DT_CUTOFF:
        return Score("distress-thermometer", "Distress Thermometer", value, POSITIVE, (
            f"Distress {value} is at or above the NCCN cut-off of {DT_CUTOFF}: clinically significant "
            "(moderate to severe) distress. Evaluate further and refer according to the Problem List.",
        ))
    return Score("distress-thermometer", "Distress Thermometer", value, NEGATIVE, (
        f"Distress {value} is below the NCCN cut-off of {DT_CUTOFF}: mild distress, usually managed by the primary "
        "oncology team.",
    ))


def score_nccn_dt(defn: Mapping[str, Any], answers: Answers) -> Outcome:
    raw = answers.get("distress")
    dt_score = score_distress_thermometer(raw[0] if raw else None)
    scores = [dt_score]
    findings: list[Finding] = []
    for item in defn["items"]:
        if item["type"] != "multi-choice":
            continue
        ticked = _checked(defn, answers, item["link_id"])
        category = item.get("category", item["text"])
        if ticked:
            scores.append(Score(
                f"problem-list-{item['link_id'].removeprefix('problems-')}", f"Problem List: {category}", len(ticked),
                NO_RESULT, (f"{len(ticked)} concern(s) ticked under {category}; the Problem List has no score.",),
                text="; ".join(o["display"] for o in ticked),
            ))
        for opt in ticked:
            findings.append(Finding(
                need=opt.get("need", ""), label=f"{category}: {opt['display']}",
                trigger=f"{item['link_id']}:{opt['code']}", referrals=tuple(opt.get("referrals", [])),
            ))
    if dt_score.interpretation == POSITIVE:
        suggestions = list(suggestions_from(findings))
        if not suggestions:
            suggestions.append(Suggestion(
                "social_work",
                (f"Distress {dt_score.value} (≥ {DT_CUTOFF}) with no ticked problem that names a service: "
                 "psychosocial evaluation.",),
                ("distress",), ("emotional",),
            ))
        summary = (f"Positive distress screen ({dt_score.value}/10).",)
    elif dt_score.interpretation == NEGATIVE:
        suggestions = []
        summary = (f"Negative distress screen ({dt_score.value}/10): no referral is proposed.",)
    else:
        suggestions = []
        summary = ("No distress rating: no score and no referral is proposed.",)
    return Outcome(tuple(scores), tuple(findings), tuple(suggestions), summary)


# --- CMS AHC HRSN core questions ---------------------------------------------------------------------------

# Domain → (items, display, LOINC of the domain's observation or "", referral services, need)
_HRSN_DOMAINS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...], str], ...] = (
    ("housing", ("living-situation", "housing-problems"), "Living situation", ("social_work",), "housing"),
    ("food", ("food-worry", "food-ran-out"), "Food", ("social_work",), "food"),
    ("transportation", ("transportation",), "Transportation", ("social_work",), "transportation"),
    ("utilities", ("utilities",), "Utilities", ("financial_counselling",), "utilities"),
)
_SAFETY_ITEMS = ("safety-hurt", "safety-insult", "safety-threaten", "safety-scream")
SAFETY_TOTAL_LOINC = "95614-4"


def _hrsn_choice_domain(defn: Mapping[str, Any], answers: Answers, domain: str, links: tuple[str, ...],
                        display: str) -> Score:
    """Positive if any answered item has a positive (underlined) answer; negative only if every item was
    answered without one; otherwise no result (incomplete)."""
    items = items_of(defn)
    positives: list[str] = []
    unanswered: list[str] = []
    for link in links:
        chosen = answers.get(link, [])
        if not chosen:
            unanswered.append(link)
            continue
        for code in chosen:
            opt = option_of(items[link], code)
            if opt.get("positive"):
                positives.append(f"'{opt['display']}'")
    code = f"hrsn-{domain}"
    if positives:
        return Score(code, f"Social need: {display}", None, POSITIVE,
                     (f"{display}: positive answer {', '.join(positives)} (AHC HRSN).",))
    if unanswered:
        return Score(code, f"Social need: {display}", None, NO_RESULT,
                     (f"{display}: {len(unanswered)} question(s) unanswered and no positive answer, so there is no "
                      "result.",))
    return Score(code, f"Social need: {display}", None, NEGATIVE, (f"{display}: no positive answer.",))


def score_hrsn_safety(values: Mapping[str, int | None]) -> Score:
    """Interpersonal safety (HITS items, Never 1 … Frequently 5): total of the four items, ≥ 11 positive.

    All four answers are needed for a total.  An incomplete set is still positive when the answered items
    alone reach 11, because each missing answer can only add 1-5.
    """
    answered = {k: v for k, v in values.items() if v is not None}
    subtotal = sum(answered.values())
    for v in answered.values():
        if not 1 <= v <= 5:
            raise ValueError("Safety answers are scored 1 (Never) to 5 (Frequently).")
    if len(answered) == len(_SAFETY_ITEMS):
        if subtotal >= SAFETY_CUTOFF:
            return Score("hrsn-safety", "Social need: Interpersonal safety", subtotal, POSITIVE, (
                f"Safety total {subtotal} is {SAFETY_CUTOFF} or more: the person might not be safe (AHC HRSN).",
            ), loinc=SAFETY_TOTAL_LOINC)
        return Score("hrsn-safety", "Social need: Interpersonal safety", subtotal, NEGATIVE,
                     (f"Safety total {subtotal} is below {SAFETY_CUTOFF}.",), loinc=SAFETY_TOTAL_LOINC)
    missing = len(_SAFETY_ITEMS) - len(answered)
    if subtotal >= SAFETY_CUTOFF:
        return Score("hrsn-safety", "Social need: Interpersonal safety", None, POSITIVE, (
            f"{missing} safety question(s) unanswered, but the answered ones already total {subtotal} "
            f"(≥ {SAFETY_CUTOFF}): the person might not be safe.",
        ), loinc=SAFETY_TOTAL_LOINC)
    return Score("hrsn-safety", "Social need: Interpersonal safety", None, NO_RESULT, (
        f"{missing} safety question(s) unanswered: all four are needed for a total, so there is no result.",
    ), loinc=SAFETY_TOTAL_LOINC)


def score_ahc_hrsn(defn: Mapping[str, Any], answers: Answers) -> Outcome:
    scores: list[Score] = []
    findings: list[Finding] = []
    for domain, links, display, services, need in _HRSN_DOMAINS:
        s = _hrsn_choice_domain(defn, answers, domain, links, display)
        scores.append(s)
        if s.interpretation == POSITIVE:
            findings.append(Finding(need, f"Social need: {display}", s.code, services))
    items = items_of(defn)
    safety_values: dict[str, int | None] = {}
    for link in _SAFETY_ITEMS:
        chosen = answers.get(link)
        safety_values[link] = int(option_of(items[link], chosen[0])["value"]) if chosen else None
    safety = score_hrsn_safety(safety_values)
    scores.append(safety)
    if safety.interpretation == POSITIVE:
        findings.append(Finding("safety", "Social need: Interpersonal safety", safety.code, ("social_work",)))
    positive = [s.display.removeprefix("Social need: ") for s in scores if s.interpretation == POSITIVE]
    summary = (
        (f"Positive social-needs screen: {', '.join(positive)}.",) if positive
        else ("No positive social-needs domain.",)
    )
    return Outcome(tuple(scores), tuple(findings), suggestions_from(findings, urgent_needs=frozenset({"safety"})),
                   summary)


Scorer = Callable[[Mapping[str, Any], Answers], Outcome]
SCORERS: dict[str, Scorer] = {
    "nccn-dt": score_nccn_dt,
    "ahc-hrsn-core": score_ahc_hrsn,
}


def evaluate(defn: Mapping[str, Any], answers: Answers) -> Outcome:
    """Score answers (already normalised) with the instrument's rule set."""
    return SCORERS[defn["scoring"]](defn, answers)
