"""Pure rules of symptom monitoring: scoring, alert rules, deadlines and patient guidance.

No database access here.  The published data these rules read (the PRO-CTCAE composite table, the
guidance texts) is loaded once from ``instruments/data/symptom-monitoring`` (provenance in
``instruments/data/PROVENANCE.md``).

Sources (see /docs and the data files' PROVENANCE.md):
- ESAS-r: ESAS-r Administration Manual (AHS / Covenant Health / University of Alberta, Nov 2019);
  Total Symptom Distress Score = items 1-9 (the "Other problem" item 10 is excluded), range 0-90
  (Hui & Bruera, JPSM 2017;53(3):630-643); physical subscore = pain, tiredness, drowsiness, nausea, lack of
  appetite, shortness of breath (0-60); emotional subscore = depression + anxiety (0-20) (Cheung et al.,
  JPSM 2009;37(3):297-304).  No published missing-item rule: a sum is computed only when all its items are
  answered.  Severity bands per item: 0 none, 1-3 mild, 4-6 moderate, 7-10 severe (Selby et al., JPSM
  2010;39(2):241, as used in Ontario).
- PRO-CTCAE composite grade: Basch E et al., Clin Trials 2021;18(1):104-114; the 179-row lookup and the
  zero-imputation / gate rules as implemented by ProAE 1.0.4 (``toxScores``, ``impute=TRUE``).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from oncoliaison.instruments.files import data_dir

DATA_DIR = data_dir("symptom-monitoring")  # Purpose.SYMPTOM_MONITORING (no models imported into the rules)

NONE, MILD, MODERATE, SEVERE = "none", "mild", "moderate", "severe"
RANK = {"": 0, NONE: 0, MILD: 1, MODERATE: 2, SEVERE: 3}


# --- instrument definitions (plain data, built from rows or files) -------------------------------------


@dataclass(frozen=True)
class ItemDef:
    link_id: str
    kind: str  # scale | ordinal | presence | text | free_text
    symptom: str = ""
    symptom_label: str = ""
    attribute: str = ""  # frq | sev | int | amount | yn
    term: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    text: str = ""


@dataclass(frozen=True)
class ScaleDef:
    code: str
    label: str
    items: tuple[str, ...]
    min_value: int
    max_value: int


@dataclass(frozen=True)
class InstrumentDef:
    code: str
    method: str  # esas_r | proctcae_composite
    items: tuple[ItemDef, ...]
    scales: tuple[ScaleDef, ...] = ()

    @functools.cached_property
    def by_link(self) -> dict[str, ItemDef]:
        return {i.link_id: i for i in self.items}


@dataclass(frozen=True)
class SymptomResult:
    """One derived score: a symptom item (ESAS-r), a composite grade, a presence, or a scale sum."""

    kind: str  # item | composite | presence | scale
    code: str
    label: str
    value: int | None
    max_value: int
    band: str = ""
    note: str = ""


class AnswerError(ValueError):
    """An answer outside the item's range, or for an item the instrument does not have."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def validate_answers(instrument: InstrumentDef, answers: Mapping[str, Any]) -> dict[str, int | str | None]:
    """Coded answers checked against the items' ranges; unknown items and out-of-range values refused."""
    clean: dict[str, int | str | None] = {}
    errors: dict[str, str] = {}
    for link_id, raw in answers.items():
        item = instrument.by_link.get(link_id)
        if item is None:
            errors[link_id] = "not an item of this instrument"
            continue
        if item.kind in ("text", "free_text"):
            clean[link_id] = str(raw or "").strip()[: 4000 if item.kind == "free_text" else 200]
            continue
        if raw is None or raw == "":
            clean[link_id] = None
            continue
        if isinstance(raw, bool) or not isinstance(raw, int | str):
            errors[link_id] = "must be a whole number"
            continue
        try:
            value = int(raw)
        except ValueError:
            errors[link_id] = "must be a whole number"
            continue
        lo = item.min_value if item.min_value is not None else 0
        hi = item.max_value if item.max_value is not None else 0
        if not lo <= value <= hi:
            errors[link_id] = f"must be between {lo} and {hi}"
            continue
        clean[link_id] = value
    if errors:
        raise AnswerError(errors)
    return clean


def score(instrument: InstrumentDef, answers: Mapping[str, int | str | None]) -> list[SymptomResult]:
    """Every derived score of one report, by the instrument's published method."""
    if instrument.method == "esas_r":
        return esas_r_scores(instrument, answers)
    if instrument.method == "proctcae_composite":
        return proctcae_scores(instrument, answers)
    raise ValueError(f"Unknown scoring method {instrument.method}")


# --- ESAS-r -----------------------------------------------------------------------------------------------


def esas_band(value: int | None) -> str:
    """0 none, 1-3 mild, 4-6 moderate, 7-10 severe (Selby et al. 2010)."""
    if value is None:
        return ""
    if value == 0:
        return NONE
    if value <= 3:
        return MILD
    if value <= 6:
        return MODERATE
    return SEVERE


def sum_if_complete(values: Sequence[int | None]) -> int | None:
    """The sum, or None when any component item is missing (no published imputation rule for ESAS-r)."""
    if any(v is None for v in values):
        return None
    return sum(v for v in values if v is not None)


def esas_r_scores(instrument: InstrumentDef, answers: Mapping[str, int | str | None]) -> list[SymptomResult]:
    results: list[SymptomResult] = []
    other_name = ""
    for item in instrument.items:
        if item.kind == "text":
            other_name = str(answers.get(item.link_id) or "")
    for item in instrument.items:
        if item.kind != "scale":
            continue
        raw = answers.get(item.link_id)
        value = raw if isinstance(raw, int) else None
        label = item.symptom_label or item.text
        if item.symptom == "other":
            if value is None and not other_name:
                continue  # item 10 not used
            label = f"Other: {other_name}" if other_name else label
        results.append(SymptomResult("item", f"esas-{item.symptom}", label, value, item.max_value or 10,
                                     esas_band(value), "" if value is not None else "not answered"))
    for scale in instrument.scales:
        values = [answers.get(link) for link in scale.items]
        total = sum_if_complete([v if isinstance(v, int) else None for v in values])
        missing = sum(1 for v in values if not isinstance(v, int))
        results.append(SymptomResult("scale", f"esas-{scale.code}", scale.label, total, scale.max_value, "",
                                     f"{missing} item(s) missing: not computed" if total is None else ""))
    return results


# --- PRO-CTCAE composite grade ---------------------------------------------------------------------------

PATTERNS = ("frq", "sev", "int", "frq sev", "frq int", "sev int", "frq sev int")


@functools.cache
def composite_table() -> dict[tuple[int | None, int | None, int | None], int]:
    """(frequency, severity, interference) -> grade, None for attributes the term does not have."""
    table: dict[tuple[int | None, int | None, int | None], int] = {}
    with (DATA_DIR / "proctcae_composite_table_from_ProAE_1.0.4.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            frq, sev, itf = (int(row[k]) if row[k] != "" else None for k in ("frq", "sev", "int"))
            table[(frq, sev, itf)] = int(row["comp"])
    return table


@functools.cache
def term_patterns() -> dict[int, tuple[str, ...]]:
    """PRO-CTCAE term number -> its graded attributes in gate order, e.g. 48 -> ("frq", "sev", "int")."""
    patterns: dict[int, tuple[str, ...]] = {}
    with (DATA_DIR / "proctcae_item_groups_from_ProAE_1.0.4.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            for term in row["qset"].split():
                patterns[int(term)] = tuple(row["fmt"].split())
    return patterns


@dataclass(frozen=True)
class Composite:
    grade: int | None
    reason: str


def composite_grade(attributes: Sequence[str], values: Mapping[str, int | None]) -> Composite:
    """The published composite grade (0-3) of one term, with the rule that decided it.

    ``attributes``: the term's attributes in order (frequency, severity, interference); ``values``: the
    coded answers (None = missing).  Rules (ProAE impute=TRUE; Basch 2021):
    1. if the first (gate) attribute is 0, later skipped attributes are set to 0;
    2. if any attribute is still missing, the composite is missing;
    3. a gate of 0 gives grade 0;
    4. otherwise the grade is read from the published table.
    """
    attrs = tuple("int" if a == "amount" else a for a in attributes)
    vals = {("int" if k == "amount" else k): v for k, v in values.items()}
    gate = vals.get(attrs[0])
    if gate is None:
        return Composite(None, f"{attrs[0]} not answered")
    if gate == 0:
        return Composite(0, f"{attrs[0]} is 0: grade 0 (gate rule)")
    missing = [a for a in attrs if vals.get(a) is None]
    if missing:
        return Composite(None, f"{', '.join(missing)} not answered")
    key = (
        vals.get("frq") if "frq" in attrs else None,
        vals.get("sev") if "sev" in attrs else None,
        vals.get("int") if "int" in attrs else None,
    )
    grade = composite_table().get(key)
    if grade is None:
        return Composite(None, "combination not in the published table")
    return Composite(grade, "published table")


def composite_band(grade: int | None) -> str:
    return {None: "", 0: NONE, 1: MILD, 2: MODERATE, 3: SEVERE}[grade]


def proctcae_scores(instrument: InstrumentDef, answers: Mapping[str, int | str | None]) -> list[SymptomResult]:
    by_term: dict[int, list[ItemDef]] = {}
    for item in instrument.items:
        if item.term is not None and item.kind in ("ordinal", "presence"):
            by_term.setdefault(item.term, []).append(item)
    patterns = term_patterns()
    results: list[SymptomResult] = []
    for term, items in by_term.items():
        asked = [i for i in items if i.link_id in answers]
        if not asked:
            continue  # not chosen for this care plan
        label = items[0].symptom_label
        code = items[0].symptom
        graded = [i for i in items if i.kind == "ordinal"]
        if term in patterns and graded:
            values = {i.attribute: _int_or_none(answers.get(i.link_id)) for i in graded}
            comp = composite_grade(patterns[term], values)
            results.append(SymptomResult("composite", code, label, comp.grade, 3, composite_band(comp.grade),
                                         comp.reason))
        for item in items:
            if item.kind == "presence" and item.link_id in answers:
                value = _int_or_none(answers.get(item.link_id))
                band = "" if value is None else (MILD if value else NONE)
                results.append(SymptomResult("presence", code, label, value, 1, band,
                                             "" if value is not None else "not answered"))
    return results


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- alert rules -------------------------------------------------------------------------------------------

DEFAULT_RED_FLAGS = (
    "chest pain", "trouble breathing", "can't breathe", "cannot breathe", "fever", "temperature",
    "shaking chills", "bleeding", "blood in", "coughing blood", "vomiting blood", "black stool",
    "fainted", "passed out", "confused", "seizure", "suicidal", "kill myself", "can't keep fluids down",
    # The same warning signs in Spanish, the portal's other language (the words of the Spanish "call now"
    # and "when to call" guidance, instruments/data/symptom-monitoring/guidance.json), so a patient who writes in Spanish is
    # not missed.  Matching ignores accents: "convulsion" and "convulsión" both match.
    "dolor en el pecho", "dolor de pecho", "dificultad para respirar", "no puedo respirar", "fiebre",
    "calentura", "temperatura", "escalofrios", "sangrado", "sangre en", "tos con sangre", "vomito con sangre",
    "vomitos con sangre", "heces negras", "me desmaye", "desmayo", "confundido", "confundida", "convulsion",
    "suicida", "matarme", "quitarme la vida", "no puedo retener liquidos",
)


@dataclass(frozen=True)
class RuleConfig:
    kind: str  # severe | worsening | new_symptom | red_flag
    severity: str
    enabled: bool = True
    params: Mapping[str, Any] = field(default_factory=dict)


DEFAULT_RULES: tuple[RuleConfig, ...] = (
    RuleConfig("severe", SEVERE, params={"esas_at": 7, "grade_at": 3}),
    RuleConfig("worsening", MODERATE, params={"points": 2, "grades": 1, "grade_at": 2}),
    RuleConfig("new_symptom", MODERATE, params={"esas_at": 4, "grade_at": 2, "presence": True}),
    RuleConfig("red_flag", SEVERE, params={"phrases": list(DEFAULT_RED_FLAGS)}),
)


@dataclass(frozen=True)
class Reason:
    rule: str
    severity: str
    symptom: str
    label: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": self.severity, "symptom": self.symptom, "label": self.label,
                "detail": self.detail}


def _is_symptom(r: SymptomResult) -> bool:
    return r.kind in ("item", "composite", "presence") and r.value is not None


def _reaches(r: SymptomResult, esas_at: int, grade_at: int) -> bool:
    if r.value is None:
        return False
    if r.kind == "item":
        return r.value >= esas_at
    if r.kind == "composite":
        return r.value >= grade_at
    return False


def _phrase_pattern(phrases: Iterable[str]) -> re.Pattern[str] | None:
    return _compiled(tuple(phrases))


@functools.lru_cache(maxsize=64)
def _compiled(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    cleaned = [re.escape(_normalise(p)) for p in phrases if _normalise(p)]
    if not cleaned:
        return None
    return re.compile(r"(?<![a-z])(" + "|".join(sorted(cleaned, key=len, reverse=True)) + r")(?![a-z])")


def _normalise(text: str) -> str:
    """Case-, accent- and spacing-insensitive text: "Convulsión" and "convulsion" are the same words."""
    folded = unicodedata.normalize("NFKD", text.casefold().replace("\u2019", "'").replace("\u2018", "'"))
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).split())


def red_flags_in(text: str, phrases: Iterable[str]) -> list[str]:
    """Red-flag phrases found in free text (case-insensitive, whole words; negations are NOT excluded:
    "no chest pain" still alerts, because a missed emergency costs more than a call)."""
    pattern = _phrase_pattern(phrases)
    if pattern is None or not text:
        return []
    return list(dict.fromkeys(m.group(1) for m in pattern.finditer(_normalise(text))))


def evaluate_alerts(
    current: Sequence[SymptomResult],
    previous: Mapping[str, int | None] | None,
    free_text: str,
    rules: Sequence[RuleConfig] = DEFAULT_RULES,
) -> list[Reason]:
    """Why this report needs a response (empty: it does not).

    ``previous``: symptom code -> value in the patient's previous report of the same instrument, or None
    when there is none (then "worsening" and "new symptom" have no baseline and do not fire).
    """
    reasons: list[Reason] = []
    symptoms = [r for r in current if _is_symptom(r)]
    for rule in rules:
        if not rule.enabled:
            continue
        p = rule.params
        if rule.kind == "severe":
            for r in symptoms:
                if _reaches(r, int(p.get("esas_at", 7)), int(p.get("grade_at", 3))):
                    unit = "grade" if r.kind == "composite" else "score"
                    reasons.append(Reason("severe", rule.severity, r.code, r.label,
                                          f"{r.label}: {unit} {r.value} of {r.max_value}"))
        elif rule.kind == "worsening" and previous is not None:
            for r in symptoms:
                before = previous.get(r.code)
                if before is None or r.value is None:
                    continue
                if r.kind == "item" and r.value - before >= int(p.get("points", 2)):
                    reasons.append(Reason("worsening", rule.severity, r.code, r.label,
                                          f"{r.label}: {before} → {r.value} (+{r.value - before})"))
                elif (r.kind == "composite" and r.value - before >= int(p.get("grades", 1))
                      and r.value >= int(p.get("grade_at", 2))):
                    reasons.append(Reason("worsening", rule.severity, r.code, r.label,
                                          f"{r.label}: grade {before} → {r.value}"))
        elif rule.kind == "new_symptom" and previous is not None:
            for r in symptoms:
                before = previous.get(r.code)
                if before not in (None, 0):
                    continue
                new = _reaches(r, int(p.get("esas_at", 4)), int(p.get("grade_at", 2))) or (
                    r.kind == "presence" and bool(p.get("presence", True)) and r.value == 1
                )
                if new:
                    reasons.append(Reason("new_symptom", rule.severity, r.code, r.label,
                                          f"{r.label}: new since the previous report"))
        elif rule.kind == "red_flag":
            for phrase in red_flags_in(free_text, p.get("phrases") or DEFAULT_RED_FLAGS):
                reasons.append(Reason("red_flag", rule.severity, "free-text", "Free text",
                                      f"Red-flag phrase: “{phrase}”"))
    return order_reasons(reasons)


def highest_severity(reasons: Iterable[Reason]) -> str:
    best = ""
    for r in reasons:
        if RANK[r.severity] > RANK[best]:
            best = r.severity
    return best


# Clinical weight of a reason, heaviest first: a red-flag phrase (possible emergency: fever after
# chemotherapy, chest pain, bleeding…) outranks a symptom that reached severe, which outranks a symptom
# that worsened, which outranks a new one.  Every list of reasons (the alert, the worklists, the summary)
# is shown in this order, so that the reason that decides the response is read first.
REASON_WEIGHT: dict[str, int] = {"red_flag": 0, "severe": 1, "worsening": 2, "new_symptom": 3}


def _weight(rule: str, severity: str) -> tuple[int, int]:
    return REASON_WEIGHT.get(rule, len(REASON_WEIGHT)), -RANK.get(severity, 0)


def order_reasons(reasons: Iterable[Reason]) -> list[Reason]:
    """Reasons by clinical weight (REASON_WEIGHT), then severity; ties keep their order."""
    return sorted(reasons, key=lambda r: _weight(r.rule, r.severity))


def order_reason_dicts(reasons: Iterable[Mapping[str, str]]) -> list[Mapping[str, str]]:
    """The same order for reasons as stored on an alert (``Reason.as_dict``)."""
    return sorted(reasons, key=lambda r: _weight(r.get("rule", ""), r.get("severity", "")))


def summarise(reasons: Sequence[Reason], limit: int = 300) -> str:
    """One line: the reasons by clinical weight.  Red flags are always listed whole; the other reasons fill
    what is left of ``limit`` and those that do not fit are counted ("+2 more"), never cut mid-word."""
    ordered = list(dict.fromkeys(r.detail for r in order_reasons(reasons)))
    flags = {r.detail for r in reasons if r.rule == "red_flag"}
    shown: list[str] = []
    for i, detail in enumerate(ordered):
        rest = len(ordered) - i - 1
        candidate = "; ".join([*shown, detail]) + (f"; +{rest} more" if rest else "")
        if detail in flags or len(candidate) <= limit:
            shown.append(detail)
            continue
        return "; ".join(shown) + f"; +{len(ordered) - i} more" if shown else f"+{len(ordered)} more"
    return "; ".join(shown)


# --- deadlines -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlinePolicy:
    severe_minutes: int = 60
    moderate_business_days: int = 1
    mild_business_days: int = 3
    business_day_end_hour: int = 17
    holidays: frozenset[dt.date] = frozenset()


def is_business_day(day: dt.date, holidays: frozenset[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_business_days(day: dt.date, n: int, holidays: frozenset[dt.date]) -> dt.date:
    """The n-th business day after ``day`` (n = 0: ``day`` itself if a business day, else the next one)."""
    if n == 0:
        while not is_business_day(day, holidays):
            day += dt.timedelta(days=1)
        return day
    while n > 0:
        day += dt.timedelta(days=1)
        if is_business_day(day, holidays):
            n -= 1
    return day


def response_deadline(created: dt.datetime, severity: str, policy: DeadlinePolicy, tz: ZoneInfo) -> dt.datetime:
    """When the care team must have responded.  Severe: ``severe_minutes`` around the clock; moderate and
    mild: the end of the working day, ``n`` business days after the local day of the report."""
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware")
    if severity == SEVERE:
        return created + dt.timedelta(minutes=policy.severe_minutes)
    days = policy.moderate_business_days if severity == MODERATE else policy.mild_business_days
    local = created.astimezone(tz)
    due_day = add_business_days(local.date(), days, policy.holidays)
    return dt.datetime.combine(due_day, dt.time(policy.business_day_end_hour), tzinfo=tz)


# --- guidance for the patient -----------------------------------------------------------------------------


@functools.cache
def _guidance_file() -> dict[str, Any]:
    guidance: dict[str, Any] = json.loads((DATA_DIR / "guidance.json").read_text(encoding="utf-8"))
    return guidance


def guidance_texts(language: str = "en", *, proxy: bool = False) -> dict[str, Any]:
    """The guidance in ``language`` where the file has it (each text falls back to English by itself).
    ``proxy``: worded for a caregiver who reported on the patient's behalf (the same content, third person)."""
    texts = _guidance_file()
    local = texts.get("translations", {}).get(language.split("-")[0], {})
    nested = ("self_care", "labels", "proxy")
    merged = {**texts, **{k: v for k, v in local.items() if k not in nested}}
    if proxy:
        merged.update(texts["proxy"])
        merged.update(local.get("proxy", {}))
    merged["self_care"] = {**texts["self_care"], **local.get("self_care", {})}
    merged["labels"] = local.get("labels", {})
    return merged


@dataclass(frozen=True)
class Guidance:
    severity: str  # "" when no alert
    headline: str
    call_now: bool
    emergency: str
    when_to_call: str
    self_care: tuple[tuple[str, str], ...]  # (symptom label, advice)
    deadline: dt.datetime | None = None
    proxy: bool = False  # worded for a caregiver reporting on the patient's behalf


_FEVER_WORDS = ("fever", "temperature", "fiebre", "calentura", "temperatura")

_SELF_CARE_KEYS = {
    "esas-pain": "pain", "esas-tiredness": "tiredness", "esas-drowsiness": "drowsiness", "esas-nausea": "nausea",
    "esas-appetite": "appetite", "esas-breath": "breath", "esas-depression": "depression",
    "esas-anxiety": "anxiety", "esas-wellbeing": "wellbeing", "proctcae-9": "nausea", "proctcae-10": "vomiting",
    "proctcae-16": "diarrhea", "proctcae-3": "mouth-sores", "proctcae-15": "constipation",
    "proctcae-39": "numbness", "proctcae-48": "pain", "proctcae-53": "tiredness", "proctcae-19": "breath",
    "proctcae-8": "appetite", "proctcae-54": "anxiety", "proctcae-56": "depression",
}


def guidance_for(results: Sequence[SymptomResult], reasons: Sequence[Reason],
                 deadline: dt.datetime | None = None, language: str = "en", *, proxy: bool = False) -> Guidance:
    texts = guidance_texts(language, proxy=proxy)
    severity = highest_severity(reasons)
    headline = texts[severity or "none"]
    if not reasons and any(r.band in (MILD, MODERATE) for r in results):
        headline = texts["mild"]
    tips: dict[str, tuple[str, str]] = {}
    ranked = sorted((r for r in results if r.band in (MILD, MODERATE, SEVERE)), key=lambda r: -RANK[r.band])
    for r in ranked:
        key = _SELF_CARE_KEYS.get(r.code)
        if key and key not in tips:
            tips[key] = (texts["labels"].get(key, r.label), texts["self_care"][key])
    if any(x.rule == "red_flag" and any(word in x.detail for word in _FEVER_WORDS) for x in reasons):
        tips.setdefault("fever", (texts["labels"].get("fever", "Fever"), texts["self_care"]["fever"]))
    return Guidance(
        severity=severity,
        headline=headline,
        call_now=severity == SEVERE,
        emergency=texts["emergency"],
        when_to_call=texts["when_to_call"],
        self_care=tuple(list(tips.values())[:5]),
        deadline=deadline,
        proxy=proxy,
    )
