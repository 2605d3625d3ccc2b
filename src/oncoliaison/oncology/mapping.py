"""Translating FHIR R4 resources (mCODE STU4 / US Core profiles) into the cancer record's fields.

Plain dicts in, plain dicts out: the resources were validated with fhir.resources before they get here,
so these functions only pick codes (with their systems and display text), dates and values, cut text to
the column sizes, and raise MappingError when a valid resource lacks what the record needs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson
from django.utils import timezone

from oncoliaison.patients.services import IdentifierData, PatientData

from . import rules
from .models import ICDO3, LOINC, RXNORM, SNOMED, ClinicalStatus, VerificationStatus

# --- small helpers (plain dicts, no pydantic: validation already happened) ------------------------------


def content_hash(resource: dict[str, Any]) -> str:
    return hashlib.sha256(orjson.dumps(resource, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _cut(value: Any, n: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= n else text[: n - 1] + "…"


def _pick_coding(concept: dict[str, Any] | None, prefer: Iterable[str] = (SNOMED,)) -> dict[str, Any]:
    cs = rules.codings(concept)
    for system in prefer:
        for c in cs:
            if c.get("system") == system and c.get("code"):
                return c
    for c in cs:
        if c.get("code"):
            return c
    return {}


def _code_fields(concept: dict[str, Any] | None, prefer: Iterable[str] = (SNOMED,), *, sys_len: int = 100,
                 code_len: int = 40, display_len: int = 200) -> tuple[str, str, str]:
    c = _pick_coding(concept, prefer)
    display = c.get("display") or (concept or {}).get("text") or ""
    return _cut(c.get("system", ""), sys_len), _cut(c.get("code", ""), code_len), _cut(display, display_len)


def _display(concept: dict[str, Any] | None) -> str:
    if not concept:
        return ""
    c = _pick_coding(concept)
    return str(c.get("display") or concept.get("text") or c.get("code") or "")


_tz_cache: dict[str, dt.datetime] = {}


def parse_datetime(value: str | None) -> dt.datetime | None:
    """FHIR date / dateTime / instant → aware datetime (partial dates: the first day, local midnight)."""
    if not value:
        return None
    cached = _tz_cache.get(value)
    if cached is not None:
        return cached
    text = value
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed, timezone.get_default_timezone())
    if len(_tz_cache) < 200_000:
        _tz_cache[value] = parsed
    return parsed


def parse_date(value: str | None) -> dt.date | None:
    if not value:
        return None
    text = value[:10]
    if len(text) == 4:
        text += "-01-01"
    elif len(text) == 7:
        text += "-01"
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _period(resource: dict[str, Any], prefix: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    if prefix + "DateTime" in resource:
        at = parse_datetime(resource[prefix + "DateTime"])
        return at, None
    if prefix + "Instant" in resource:
        return parse_datetime(resource[prefix + "Instant"]), None
    period = resource.get(prefix + "Period")
    if period:
        return parse_datetime(period.get("start")), parse_datetime(period.get("end"))
    return None, None


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except InvalidOperation:
        return None
    return d if d.is_finite() and abs(d) < Decimal("1e12") else None


def _ext(resource: dict[str, Any], suffix: str) -> list[dict[str, Any]]:
    return [e for e in resource.get("extension") or () if str(e.get("url", "")).endswith(suffix)]


def _ext_concept(resource: dict[str, Any], suffix: str) -> dict[str, Any] | None:
    for e in _ext(resource, suffix):
        if "valueCodeableConcept" in e:
            concept: dict[str, Any] = e["valueCodeableConcept"]
            return concept
    return None


def _value_summary(holder: dict[str, Any]) -> tuple[Decimal | None, str, str, str, str, str, str]:
    """(quantity, comparator, unit, system, code, display, text) of an Observation or component value[x]."""
    if "valueQuantity" in holder:
        q = holder["valueQuantity"]
        return (_decimal(q.get("value")), _cut(q.get("comparator", ""), 2), _cut(q.get("unit") or q.get("code") or "", 40),
                "", "", "", "")
    if "valueCodeableConcept" in holder:
        s, c, d = _code_fields(holder["valueCodeableConcept"], (SNOMED, LOINC), code_len=64)
        return None, "", "", s, c, d, ""
    if "valueInteger" in holder:
        return _decimal(holder["valueInteger"]), "", "", "", "", "", ""
    if "valueString" in holder:
        return None, "", "", "", "", "", _cut(holder["valueString"], 500)
    if "valueBoolean" in holder:
        return None, "", "", "", "", "", "Yes" if holder["valueBoolean"] else "No"
    if "valueDateTime" in holder:
        return None, "", "", "", "", "", _cut(holder["valueDateTime"], 500)
    if "valueRange" in holder:
        r = holder["valueRange"]
        low, high = (r.get("low") or {}), (r.get("high") or {})
        unit = low.get("unit") or high.get("unit") or ""
        return None, "", "", "", "", "", _cut(f"{low.get('value', '')}-{high.get('value', '')} {unit}".strip(), 500)
    if "valueRatio" in holder:
        r = holder["valueRatio"]
        num, den = (r.get("numerator") or {}), (r.get("denominator") or {})
        return None, "", "", "", "", "", _cut(f"{num.get('value', '')}:{den.get('value', '')}", 500)
    if "valuePeriod" in holder:
        p = holder["valuePeriod"]
        return None, "", "", "", "", "", _cut(f"{p.get('start', '')} to {p.get('end', '')}", 500)
    if "valueTime" in holder:
        return None, "", "", "", "", "", _cut(holder["valueTime"], 500)
    return None, "", "", "", "", "", ""


def _components(resource: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for comp in resource.get("component") or ():
        q, comparator, unit, _s, c, d, text = _value_summary(comp)
        code_sys, code, display = _code_fields(comp.get("code"), (LOINC, SNOMED))
        value = f"{comparator}{q.normalize():f}" if q is not None else (d or c or text)
        out.append({"code_system": code_sys, "code": code, "display": display, "value": value, "unit": unit})
    return out


def _interpretation(resource: dict[str, Any]) -> tuple[str, str]:
    for concept in resource.get("interpretation") or ():
        _s, code, display = _code_fields(concept)
        return code, display
    return "", ""


# --- resource → fields ----------------------------------------------------------------------------------


class MappingError(ValueError):
    """The resource is valid FHIR but lacks what the cancer record needs (reason in the message)."""


_STAGE_IN_TEXT = re.compile(r"\bstage\s+([0IV]{1,4}[A-C]?[0-9]?|[0-4][A-C]?)\b", re.IGNORECASE)


def _stage_label(display: str, code: str) -> str:
    m = _STAGE_IN_TEXT.search(display)
    if m:
        return m.group(1).upper()
    return _cut(display or code, 20)


def _laterality(concept_holder: dict[str, Any] | None) -> tuple[str, str]:
    for site in (concept_holder or {}).get("bodySite") or ():
        for e in site.get("extension") or ():
            if "laterality" in str(e.get("url", "")).lower() or "qualifier" in str(e.get("url", "")).lower():
                concept = e.get("valueCodeableConcept")
                if concept:
                    _s, code, display = _code_fields(concept, code_len=40, display_len=40)
                    return code, display
    return "", ""


def map_condition(resource: dict[str, Any]) -> dict[str, Any]:
    code_system, code, display = _code_fields(resource.get("code"), (SNOMED, rules.ICD10CM_SYSTEM))
    if not code:
        raise MappingError("Condition.code has no coded value.")
    site = (resource.get("bodySite") or [None])[0]
    site_system, site_code, site_display = _code_fields(site)
    lat_code, lat_display = _laterality(resource)
    histology = _ext_concept(resource, "mcode-histology-morphology-behavior")
    h_system, h_code, h_display = _code_fields(histology, (ICDO3, SNOMED))
    clinical = _pick_coding(resource.get("clinicalStatus")).get("code", "")
    verification = _pick_coding(resource.get("verificationStatus")).get("code", "")
    asserted = next((e.get("valueDateTime") for e in _ext(resource, "condition-assertedDate")), None)
    onset, _ = _period(resource, "onset")
    abated, _ = _period(resource, "abatement")
    stage_group = stage_system_code = stage_system_display = ""
    for stage in resource.get("stage") or ():
        summary = stage.get("summary")
        if summary:
            _s, s_code, s_display = _code_fields(summary)
            stage_group = _stage_label(s_display, s_code)
            _s, stage_system_code, stage_system_display = _code_fields(stage.get("type"))
            break
    return {
        "category": rules.classify_condition(resource),
        "code_system": code_system,
        "code": code,
        "display": display or code,
        "body_site_system": site_system,
        "body_site_code": site_code,
        "body_site_display": site_display,
        "laterality": lat_display,
        "laterality_code": lat_code,
        "histology_system": h_system,
        "histology_code": h_code,
        "histology_display": h_display,
        "diagnosed_on": onset.date() if onset else None,
        "asserted_on": parse_date(asserted) or parse_date(resource.get("recordedDate")),
        "abated_on": abated.date() if abated else None,
        "clinical_status": clinical if clinical in ClinicalStatus.values else "",
        "verification_status": verification if verification in VerificationStatus.values else "",
        "stage_group": stage_group,
        "stage_system_code": stage_system_code,
        "stage_system_display": stage_system_display,
    }


def map_stage(resource: dict[str, Any], cls: rules.ObservationClass) -> dict[str, Any]:
    code_system, code, display = _code_fields(resource.get("code"), (SNOMED, LOINC))
    v_system, v_code, v_display = _code_fields(resource.get("valueCodeableConcept"), code_len=64)
    if not (v_code or v_display):
        raise MappingError("A staging observation needs valueCodeableConcept (the stage or category).")
    _s, m_code, m_display = _code_fields(resource.get("method"))
    at, _ = _period(resource, "effective")
    return {
        "kind": cls.stage_kind,
        "stage_type": cls.stage_type,
        "code_system": code_system,
        "code": code,
        "display": display,
        "value_system": v_system,
        "value_code": v_code,
        "value_display": v_display,
        "system_code": m_code,
        "system_display": m_display,
        "status": _cut(resource.get("status", ""), 20),
        "effective_on": at.date() if at else None,
    }


def map_observation(resource: dict[str, Any], cls: rules.ObservationClass) -> dict[str, Any]:
    code_system, code, display = _code_fields(resource.get("code"), (LOINC, SNOMED))
    if not code:
        raise MappingError("Observation.code has no coded value.")
    q, comparator, unit, v_system, v_code, v_display, text = _value_summary(resource)
    i_code, i_display = _interpretation(resource)
    at, _ = _period(resource, "effective")
    return {
        "kind": cls.observation_kind,
        "code_system": code_system,
        "code": code,
        "display": display,
        "status": _cut(resource.get("status", ""), 20),
        "value_quantity": q,
        "value_comparator": comparator,
        "value_unit": unit,
        "value_system": v_system,
        "value_code": v_code,
        "value_display": v_display,
        "value_text": text,
        "interpretation_code": i_code,
        "interpretation_display": i_display,
        "components": _components(resource),
        "effective_at": at or parse_datetime(resource.get("issued")),
    }


def map_performance(resource: dict[str, Any], cls: rules.ObservationClass) -> dict[str, Any]:
    score: int | None = None
    if isinstance(resource.get("valueInteger"), int):
        score = resource["valueInteger"]
    elif "valueCodeableConcept" in resource:
        c = _pick_coding(resource["valueCodeableConcept"])
        if str(c.get("code", "")).isdigit():
            score = int(c["code"])
    elif "valueQuantity" in resource:
        d = _decimal(resource["valueQuantity"].get("value"))
        score = int(d) if d is not None and d == d.to_integral_value() else None
    if score is None:
        raise MappingError("A performance status needs an integer score (valueInteger).")
    problem = rules.performance_score_error(cls.instrument, score)
    if problem:
        raise MappingError(problem)
    _i, i_display = _interpretation(resource)
    if not i_display and cls.instrument == "ecog":
        i_display = rules.ECOG_MEANING.get(score, "")
    at, _ = _period(resource, "effective")
    return {
        "instrument": cls.instrument,
        "score": score,
        "interpretation": _cut(i_display, 255),
        "status": _cut(resource.get("status", ""), 20),
        "effective_at": at,
    }


def map_disease_status(resource: dict[str, Any]) -> dict[str, Any]:
    _s, code, display = _code_fields(resource.get("valueCodeableConcept"))
    if not code:
        raise MappingError("A cancer disease status needs valueCodeableConcept.")
    evidence = [
        _display(e.get("valueCodeableConcept")) for e in _ext(resource, "mcode-cancer-disease-status-evidence-type")
    ]
    at, _ = _period(resource, "effective")
    return {
        "value_code": code,
        "value_display": display,
        "evidence": _cut(", ".join(e for e in evidence if e), 255),
        "status": _cut(resource.get("status", ""), 20),
        "effective_at": at,
    }


def map_genomic_variant(resource: dict[str, Any]) -> dict[str, Any]:
    f: dict[str, Any] = {
        "gene_code": "", "gene_display": "", "dna_change": "", "protein_change": "", "variation_system": "",
        "variation_code": "", "variation_display": "", "variant_type": "", "significance_code": "",
        "significance_display": "", "genomic_source": "", "allele_frequency": None,
    }
    genomic_change = ""
    for comp in resource.get("component") or ():
        loinc = {c.get("code") for c in rules.codings(comp.get("code"))}
        concept = comp.get("valueCodeableConcept")
        if rules.GENE_STUDIED in loinc and concept:
            c = _pick_coding(concept, rules.GENE_SYSTEMS)
            f["gene_code"] = _cut(c.get("code", ""), 40)
            f["gene_display"] = _cut(c.get("display") or concept.get("text") or c.get("code", ""), 100)
        elif rules.DNA_CHANGE in loinc and concept:
            f["dna_change"] = _cut(_pick_coding(concept).get("code") or concept.get("text", ""), 255)
        elif rules.AMINO_ACID_CHANGE in loinc and concept:
            f["protein_change"] = _cut(_pick_coding(concept).get("code") or concept.get("text", ""), 255)
        elif rules.GENOMIC_DNA_CHANGE in loinc and concept:
            genomic_change = _cut(_pick_coding(concept).get("code") or concept.get("text", ""), 255)
        elif rules.VARIATION_CODE in loinc and concept:
            f["variation_system"], f["variation_code"], f["variation_display"] = _code_fields(
                concept, (), code_len=64, display_len=255)
        elif rules.SIGNIFICANCE in loinc and concept:
            _s, f["significance_code"], f["significance_display"] = _code_fields(concept, (LOINC,))
        elif rules.SOURCE_CLASS in loinc and concept:
            f["genomic_source"] = _cut(_display(concept), 40)
        elif rules.ALLELE_FREQUENCY in loinc and "valueQuantity" in comp:
            freq = _decimal(comp["valueQuantity"].get("value"))
            f["allele_frequency"] = freq if freq is not None and abs(freq) < 10_000 else None
        elif rules.VARIANT_TYPE in loinc and concept:
            f["variant_type"] = _cut(_display(concept), 200)
    if not f["dna_change"]:
        f["dna_change"] = genomic_change
    if not (f["gene_code"] or f["gene_display"] or f["variation_code"] or f["dna_change"]):
        raise MappingError("A genomic variant needs a gene studied (48018-6), a variation code or an HGVS change.")
    value = {c.get("code") for c in rules.codings(resource.get("valueCodeableConcept"))}
    f["present"] = True if value & rules.PRESENT_CODES else (False if value & rules.ABSENT_CODES else None)
    f["method_display"] = _cut(_display(resource.get("method")), 200)
    f["status"] = _cut(resource.get("status", ""), 20)
    f["effective_at"], _ = _period(resource, "effective")
    return f


def map_procedure(resource: dict[str, Any]) -> dict[str, Any]:
    code_system, code, display = _code_fields(resource.get("code"), (SNOMED,), display_len=255)
    if not code:
        raise MappingError("Procedure.code has no coded value.")
    _s, intent_code, intent_display = _code_fields(_ext_concept(resource, "mcode-procedure-intent"))
    site = (resource.get("bodySite") or [None])[0]
    _s, site_code, site_display = _code_fields(site)
    _lc, lat_display = _laterality(resource)
    start, end = _period(resource, "performed")
    sessions = next((e.get("valueUnsignedInt") for e in _ext(resource, "mcode-radiotherapy-sessions")), None)
    modality_parts = []
    for e in _ext(resource, "mcode-radiotherapy-modality-and-technique"):
        names = [_display(sub.get("valueCodeableConcept")) for sub in e.get("extension") or ()]
        modality_parts.append(" / ".join(n for n in names if n))
    total = Decimal(0)
    has_dose = False
    for e in _ext(resource, "mcode-radiotherapy-dose-delivered-to-volume"):
        for sub in e.get("extension") or ():
            if sub.get("url") == "totalDoseDelivered" and "valueQuantity" in sub:
                q = sub["valueQuantity"]
                value = _decimal(q.get("value"))
                if value is not None:
                    has_dose = True
                    total += value * 100 if str(q.get("code") or q.get("unit")) == "Gy" else value
    termination = _display(_ext_concept(resource, "mcode-treatment-termination-reason")) or _display(
        resource.get("statusReason"))
    return {
        "kind": rules.classify_procedure(resource),
        "code_system": code_system,
        "code": code,
        "display": display,
        "status": _cut(resource.get("status", ""), 20),
        "intent_code": intent_code,
        "intent_display": intent_display,
        "body_site_code": site_code,
        "body_site_display": site_display,
        "laterality": lat_display,
        "performed_start": start,
        "performed_end": end if end and (start is None or end >= start) else None,
        "modality": _cut("; ".join(p for p in modality_parts if p), 255),
        "sessions": sessions if isinstance(sessions, int) and sessions >= 0 else None,
        "total_dose_cgy": total if has_dose and total < Decimal("1e8") else None,
        "termination_reason": _cut(termination, 200),
    }


def map_medication(resource: dict[str, Any], medication_concept: dict[str, Any] | None) -> dict[str, Any]:
    concept = resource.get("medicationCodeableConcept") or medication_concept
    code_system, code, display = _code_fields(concept, (RXNORM,), display_len=255)
    if not code:
        raise MappingError("The medication has no coded value (medicationCodeableConcept or a resolvable "
                           "medicationReference).")
    _s, intent_code, intent_display = _code_fields(_ext_concept(resource, "mcode-procedure-intent"))
    rtype = resource["resourceType"]
    if rtype == "MedicationRequest":
        start = parse_datetime(resource.get("authoredOn"))
        end = None
        dosage = (resource.get("dosageInstruction") or [{}])[0]
        bounds = ((dosage.get("timing") or {}).get("repeat") or {}).get("boundsPeriod") or {}
        if bounds:
            start = parse_datetime(bounds.get("start")) or start
            end = parse_datetime(bounds.get("end"))
        dose_text = dosage.get("text", "")
    else:
        start, end = _period(resource, "effective")
        dosage = resource.get("dosage") or {}
        dose = dosage.get("dose") or {}
        dose_text = dosage.get("text") or (f"{dose.get('value', '')} {dose.get('unit', '')}".strip() if dose else "")
    reason = resource.get("statusReason")
    if isinstance(reason, list):
        reason = reason[0] if reason else None
    termination = _display(_ext_concept(resource, "mcode-treatment-termination-reason")) or _display(reason)
    return {
        "source_type": rtype,
        "code_system": code_system,
        "code": code,
        "display": display,
        "status": _cut(resource.get("status", ""), 20),
        "request_intent": _cut(resource.get("intent", ""), 20),
        "intent_code": intent_code,
        "intent_display": intent_display,
        "start": start,
        "end": end if end and (start is None or end >= start) else None,
        "dose_text": _cut(dose_text, 255),
        "termination_reason": _cut(termination, 200),
    }


_IDENTIFIER_TYPES_KEPT = {"MR": "MR", "SS": "SS", "MB": "MB"}
_IDENTIFIER_TYPES_SKIPPED = frozenset({"DL", "PPN"})  # driving licence, passport: not needed for care


def map_patient(resource: dict[str, Any], *, organization_id: int, synthetic: bool) -> PatientData:
    names = resource.get("name") or []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(name.get("given") or ())
    family = name.get("family", "")
    if not (given or family) and name.get("text"):
        parts = str(name["text"]).rsplit(" ", 1)
        given, family = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    birth = parse_date(resource.get("birthDate"))
    if not (given.strip() and family.strip() and birth):
        raise MappingError("A patient needs a given name, a family name and a birth date to be registered.")
    identifiers: list[IdentifierData] = []
    seen: set[tuple[str, str]] = set()
    for ident in resource.get("identifier") or ():
        system, value = ident.get("system", ""), ident.get("value", "")
        type_code = _pick_coding(ident.get("type"), ()).get("code", "")
        if not system or not value or type_code in _IDENTIFIER_TYPES_SKIPPED or (system, value) in seen:
            continue
        seen.add((system, value))
        identifiers.append(IdentifierData(system=_cut(system, 200), value=_cut(value, 100),
                                          type_code=_IDENTIFIER_TYPES_KEPT.get(type_code, "")))
    telecoms = list(resource.get("telecom") or ())
    # Patient.contact is someone else (next of kin, guardian): their phone is not the patient's.
    phone = next((t.get("value", "") for t in telecoms if t.get("system") == "phone"), "")
    email = next((t.get("value", "") for t in telecoms if t.get("system") == "email"), "")
    address = (resource.get("address") or [{}])[0]
    country = str(address.get("country", "")).strip()
    if len(country) != 2:
        country = "US" if country.lower() in {"united states", "usa", "united states of america"} else ""
    language = "en"
    interpreter = False
    for comm in resource.get("communication") or ():
        code = _pick_coding(comm.get("language"), ()).get("code", "")
        if code and re.match(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$", code):
            language = code.split("-")[0].lower() + code[len(code.split("-")[0]):]
            break
    for e in _ext(resource, "patient-interpreterRequired"):
        interpreter = bool(e.get("valueBoolean"))
    gender = resource.get("gender") or "unknown"
    deceased = bool(resource.get("deceasedBoolean")) or "deceasedDateTime" in resource
    return PatientData(
        given_name=_cut(given, 100), family_name=_cut(family, 100), birth_date=birth, gender=gender,
        organization_id=organization_id, phone=_cut(phone, 40), email=_cut(email, 254) if "@" in email else "",
        address_line=_cut(" ".join(address.get("line") or ()), 200), city=_cut(address.get("city", ""), 100),
        state=_cut(address.get("state", ""), 100), postal_code=_cut(address.get("postalCode", ""), 20),
        country=country.upper(), preferred_language=_cut(language, 16), interpreter_needed=interpreter,
        active=resource.get("active", True) is not False, deceased=deceased, synthetic=synthetic,
        identifiers=identifiers,
    )
