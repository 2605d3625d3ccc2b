"""Importing a FHIR Bundle of mCODE / US Core resources into the patient's cancer record.

The pipeline: read the entries → validate each supported resource with ``fhir.resources.R4B`` (one by
one, so every failure names its entry) → index fullUrls and ``Type/id`` so references resolve inside the
bundle → match patients (identifiers, then name + birth date; uncertain matches are held for review) →
translate each resource into plain field dicts → hand the plan to ``services.cancer_record_import``, the
only writer.  A ``transaction`` bundle is all or nothing; ``batch`` and ``collection`` bundles store every
entry that is valid and report the others.  Resource types the cancer record does not hold are counted and
reported, never silently dropped.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model, Q
from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError

from oncoliaison.accounts.services import system_actor
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.fhir import validation
from oncoliaison.patients.models import PatientIdentifier
from oncoliaison.patients.selectors import patient_queryset_for

from . import rules
from .importplan import (
    EntryIssue,
    ImportPlan,
    ImportResult,
    PlannedPatient,
    PlannedRecord,
    ReviewHold,
)
from .mapping import (
    MappingError,
    content_hash,
    map_condition,
    map_disease_status,
    map_genomic_variant,
    map_medication,
    map_observation,
    map_patient,
    map_performance,
    map_procedure,
    map_stage,
)
from .models import ImportedPatient, ImportReview, ReviewStatus
from .services import cancer_record_import
from .stored import MODELS, imported_rows

STORED_TYPES = frozenset(
    {"Patient", "Condition", "Observation", "Procedure", "MedicationRequest", "MedicationAdministration"}
)
# Read to resolve references (a MedicationRequest's medicationReference), not stored on their own.
SUPPORTING_TYPES = frozenset({"Medication"})
ACCEPTED_BUNDLE_TYPES = frozenset({"transaction", "batch", "collection", "searchset"})
MCODE_EXT = rules.MCODE


# --- validation --------------------------------------------------------------------------------------


def _validation_reason(exc: PydanticValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "__root__")
        parts.append(f"{loc}: {err.get('msg', '')}" if loc else str(err.get("msg", "")))
    more = exc.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validate_resource(resource: dict[str, Any]) -> str:
    """'' when the resource is valid FHIR R4 (checked with fhir.resources' R4B models), else the reason."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str) or not rtype:
        return "The resource has no resourceType."
    try:
        model = get_fhir_model_class(rtype)
    except (KeyError, ValueError, LookupError):
        return f"'{rtype}' is not a FHIR R4 resource type."
    try:
        validation.validate(model, resource)
    except PydanticValidationError as exc:
        return _validation_reason(exc)
    except (TypeError, ValueError) as exc:
        return str(exc)[:300]
    return ""


# --- the import ----------------------------------------------------------------------------------------


def _entry_source_id(entry: dict[str, Any], resource: dict[str, Any]) -> str:
    full = entry.get("fullUrl")
    if isinstance(full, str) and full:
        return full[:255]
    rid = resource.get("id")
    return f"{resource.get('resourceType')}/{rid}"[:255] if rid else ""


class _Index:
    """Reference → entry index, for urn:uuid fullUrls, absolute URLs and relative Type/id."""

    def __init__(self) -> None:
        self.by_key: dict[str, int] = {}

    def add(self, index: int, entry: dict[str, Any], resource: dict[str, Any]) -> int | None:
        """Index the entry; the index of an earlier entry with the same fullUrl, if any."""
        full = entry.get("fullUrl")
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(full, str) and full:
            if full in self.by_key and self.by_key[full] != index:
                return self.by_key[full]
            self.by_key.setdefault(full, index)
            if not full.startswith("urn:"):
                tail = "/".join(full.rstrip("/").split("/")[-2:])
                self.by_key.setdefault(tail, index)
        if rtype and rid:
            self.by_key.setdefault(f"{rtype}/{rid}", index)
        return None

    def find(self, reference: str) -> int | None:
        if reference in self.by_key:
            return self.by_key[reference]
        if not reference.startswith("urn:") and "/" in reference:
            parts = reference.split("/_history/")[0].rstrip("/").split("/")
            return self.by_key.get("/".join(parts[-2:]))
        return None


def _ref(value: dict[str, Any] | None) -> str:
    return str((value or {}).get("reference") or "")


def _subject_reference(resource: dict[str, Any]) -> str:
    return _ref(resource.get("subject")) or _ref(resource.get("patient"))


def _condition_refs(resource: dict[str, Any]) -> list[str]:
    refs = [_ref(r) for r in resource.get("focus") or ()]
    refs += [_ref(r) for r in resource.get("reasonReference") or ()]
    return [r for r in refs if r]


def _stored_unchanged(source: str, hashes: dict[str, str]) -> set[str]:
    """The source ids whose stored content hash (any record table) equals the incoming one."""
    ids = [sid for sid in hashes if sid]
    found: set[str] = set()
    if not ids:
        return found
    tables: list[type[Model]] = [*MODELS.values(), ImportedPatient]
    for model in tables:
        found.update(sid for sid, (_pk, digest, _p) in imported_rows(model, source, ids).items() if hashes[sid] == digest)
    return found


def _writer_org(actor: Actor, organization_id: int | None) -> int:
    if actor.kind not in {"staff", "system"}:
        raise Forbidden("Only care staff and authorised systems can import records.")
    orgs = actor.clinical_organization_ids
    if not orgs:
        raise Forbidden("Your role does not allow importing patient records.")
    if organization_id is None:
        if len(orgs) != 1:
            raise ValidationFailed("Choose the organisation the records are imported into.",
                                   field_errors={"organization": ["Required."]})
        organization_id = next(iter(orgs))
    if organization_id not in orgs:
        raise Forbidden("You may import records only into an organisation where you have a care role.")
    return organization_id


def _scope_reason(actor: Actor, rtype: str) -> str:
    if actor.is_system and not (actor.allows(rtype, "c") and actor.allows(rtype, "u")):
        return f"Token scope does not allow creating and updating {rtype} (needs system/{rtype}.cu)."
    return ""


def _not_held(rtype: str) -> str:
    held = ", ".join(sorted(STORED_TYPES | SUPPORTING_TYPES))
    return (f"{rtype[:64] or 'A resource without resourceType'} is not stored by this server's cancer record, "
            f"so the entry cannot be processed.  Types accepted in a transaction or batch: {held}.")


def bundle_import(
    *,
    actor: Actor,
    bundle: dict[str, Any],
    source: str,
    organization_id: int | None = None,
    synthetic: bool = False,
    channel: str = "",
    refuse_unheld: bool = False,
    _patient_overrides: dict[str, int | None] | None = None,
) -> ImportResult:
    """Import a FHIR Bundle (transaction, batch or collection) into the cancer record.

    ``source`` names the sending system (for example ``urn:oncoliaison:org:partner`` or the sender's FHIR
    base URL); together with each entry's fullUrl it identifies a resource across imports, so the same
    content imported again is "unchanged".  Raises Forbidden when the actor may not import at all and
    ValidationFailed when the payload is not a Bundle.  Entry-level problems are in ``result.rejected``.
    ``refuse_unheld`` (FHIR ``POST [base]``): an entry of a type the record does not hold is an error of
    that entry (so a transaction stores nothing); otherwise such entries are validated, counted and skipped.
    """
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise ValidationFailed("The payload is not a FHIR Bundle.")
    btype = str(bundle.get("type", ""))
    if btype not in ACCEPTED_BUNDLE_TYPES:
        raise ValidationFailed(f"Bundle.type '{btype}' is not accepted: send a transaction, batch or collection.")
    source = source.strip()[:200]
    if not source:
        raise ValidationFailed("Name the source system of the records.")
    org_id = _writer_org(actor, organization_id)
    entries = bundle.get("entry") or []
    if not isinstance(entries, list):
        raise ValidationFailed("Bundle.entry must be a list.")
    result = ImportResult(bundle_type=btype, total=len(entries))
    overrides = _patient_overrides or {}

    # 1. read and validate, one entry at a time
    index = _Index()
    resources: dict[int, dict[str, Any]] = {}
    unsupported: dict[int, dict[str, Any]] = {}
    for i, entry in enumerate(entries):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            result.rejected.append(EntryIssue(i, "", "", "The entry has no resource.", "required"))
            continue
        rtype = str(resource.get("resourceType") or "")
        rid = str(resource.get("id") or "")[:64]
        if validation.too_deep(resource):
            result.rejected.append(EntryIssue(i, rtype[:64], rid, f"The resource is nested deeper than "
                                              f"{validation.MAX_DEPTH} levels.", "invalid"))
            continue
        method = str(((entry.get("request") or {}).get("method")) or "").upper()
        if method and method not in {"POST", "PUT"}:
            result.rejected.append(EntryIssue(i, rtype, rid, f"{method} entries are not supported; send POST or PUT.",
                                              "not-supported"))
            continue
        clash = index.add(i, entry, resource)
        if clash is not None:
            result.rejected.append(EntryIssue(i, rtype, rid, f"Entry {clash} has the same fullUrl.", "duplicate"))
            continue
        if rtype not in STORED_TYPES and rtype not in SUPPORTING_TYPES:
            if refuse_unheld:
                # FHIR's transaction rules: an entry is processed or fails; "200 OK" for a resource that
                # was not stored would tell the sender it is kept.  (A file load through import-fhir keeps
                # what the cancer record holds and counts the rest, as its summary says.)
                result.rejected.append(EntryIssue(i, rtype[:64], rid, _not_held(rtype), "not-supported"))
                continue
            unsupported[i] = resource
            continue
        resources[i] = resource

    # Resources the record does not keep are validated too (a transaction with an invalid one stores
    # nothing), then reported as not stored.
    with validation.batch():
        for i, resource in unsupported.items():
            rtype = resource["resourceType"]
            reason = validate_resource(resource)
            if reason:
                result.rejected.append(EntryIssue(i, rtype, str(resource.get("id") or ""), reason))
                continue
            result.unsupported[rtype] += 1
            result.not_stored_entries.append(i)

    # Content already stored unchanged from this source was valid when it came: skip re-validating it.
    digests = {i: content_hash(r) for i, r in resources.items()}
    unchanged = _stored_unchanged(source, {_entry_source_id(entries[i], r): digests[i] for i, r in resources.items()})
    with validation.batch():  # the Bundle's repeated elements (codes, references, profiles) validated once
        for i, resource in list(resources.items()):
            rtype = resource["resourceType"]
            reason = _scope_reason(actor, rtype)
            if not reason and _entry_source_id(entries[i], resource) not in unchanged:
                reason = validate_resource(resource)
            if reason:
                code = "forbidden" if reason.startswith("Token scope") else "invalid"
                result.rejected.append(EntryIssue(i, rtype, str(resource.get("id") or ""), reason, code))
                del resources[i]

    plan = ImportPlan(source_system=source, organization_id=org_id, synthetic=synthetic)

    # 2. patients
    patient_plan: dict[int, PlannedPatient] = {}
    review_of: dict[int, ReviewHold] = {}
    rejected_entries = {issue.index for issue in result.rejected}
    claimed: dict[tuple[str, str], int] = {}  # identifier → the Patient entry that carries it
    for i, resource in resources.items():
        if resource["resourceType"] != "Patient":
            continue
        try:
            planned, hold = _plan_patient(actor, entries[i], resource, plan, overrides, digests[i])
        except MappingError as exc:
            result.rejected.append(EntryIssue(i, "Patient", str(resource.get("id", "")), str(exc), "required"))
            rejected_entries.add(i)
            continue
        assert planned.data is not None
        keys = [(ident.system, ident.value) for ident in planned.data.identifiers or []]
        clash = next((claimed[k] for k in keys if k in claimed), None)
        for k in keys:
            claimed.setdefault(k, i)
        if clash is not None and hold is None and planned.action == "create":
            planned.action = "review"
            planned.reason = f"An identifier is also given to another patient in this bundle (entry {clash})."
            hold = ReviewHold(patient=planned, given_name=planned.data.given_name,
                              family_name=planned.data.family_name, birth_date=planned.data.birth_date,
                              gender=planned.data.gender, entries=[])
        planned.entry_index = i
        patient_plan[i] = planned
        if hold is not None:
            review_of[i] = hold
            plan.reviews.append(hold)
            hold.entries.append(entries[i])
            hold.indexes.append(i)
        else:
            plan.patients.append(planned)

    known_links: dict[str, int] = {}
    pending: dict[str, int] = {}  # reference → id of a pending review of that patient (0: none)

    def pending_review_for(ref: str) -> int:
        """The pending review that holds the referenced patient from an earlier import, or 0."""
        if ref not in pending:
            tail = "/".join(ref.rstrip("/").split("/")[-2:]) if "/" in ref and not ref.startswith("urn:") else ref
            review = ImportReview.objects.filter(
                Q(source_id=ref) | Q(source_id=tail) | Q(source_id__endswith="/" + tail),
                source_system=source, status=ReviewStatus.PENDING,
                organization_id__in=actor.clinical_organization_ids,
            ).only("pk").first()
            pending[ref] = review.pk if review else 0
        return pending[ref]

    def patient_for(ref: str) -> tuple[int | None, int | None, str]:
        """(patient entry index, known patient id, reason) for a subject reference."""
        if not ref:
            return None, None, "The resource names no patient (subject)."
        j = index.find(ref)
        if j is not None:
            if j in patient_plan:
                return j, None, ""
            if j in rejected_entries:
                return None, None, f"Its patient (entry {j}) was rejected."
            return None, None, f"Its subject (entry {j}) is not a Patient."
        if ref not in known_links:
            link = ImportedPatient.objects.filter(source_system=source, source_id=ref).first()
            if link is None and "/" in ref and not ref.startswith("urn:"):
                tail = "/".join(ref.rstrip("/").split("/")[-2:])
                link = (ImportedPatient.objects.filter(source_system=source, source_id=tail).first()
                        or ImportedPatient.objects.filter(source_system=source,
                                                          source_id__endswith="/" + tail).first())
            visible = link is not None and patient_queryset_for(actor).filter(pk=link.patient_id).exists()
            known_links[ref] = link.patient_id if (link is not None and visible) else 0
        pid = known_links[ref]
        if pid:
            return None, pid, ""
        return None, None, f"The patient '{ref[:80]}' is neither in the bundle nor imported before from this source."

    # 3. everything else
    medication_codes: dict[int, dict[str, Any]] = {
        i: r.get("code") or {} for i, r in resources.items() if r["resourceType"] == "Medication"
    }
    for i, resource in resources.items():
        rtype = resource["resourceType"]
        if rtype == "Patient":
            continue
        if rtype == "Medication":
            result.supporting[rtype] += 1
            result.not_stored_entries.append(i)
            continue
        rid = str(resource.get("id", ""))
        subject = _subject_reference(resource)
        p_entry, p_id, reason = patient_for(subject)
        if reason and subject and (review_id := pending_review_for(subject)):
            plan.review_additions.setdefault(review_id, []).append((i, entries[i]))
            continue
        if reason:
            result.rejected.append(EntryIssue(i, rtype, rid, reason, "not-found"))
            continue
        try:
            record = _plan_record(i, entries[i], resource, index, medication_codes, digests[i])
        except MappingError as exc:
            result.rejected.append(EntryIssue(i, rtype, rid, str(exc), "required"))
            continue
        record.patient_entry, record.patient_id = p_entry, p_id
        cond = next((r for r in _condition_refs(resource) if r), "")
        if cond:
            j = index.find(cond)
            record.condition_ref = _entry_source_id(entries[j], resources.get(j, {})) if j is not None else cond
        if p_entry is not None and p_entry in review_of:
            review_of[p_entry].entries.append(entries[i])
            review_of[p_entry].indexes.append(i)
            continue
        plan.records.append(record)

    # supporting Medication resources travel with held entries so a later decision can resolve them
    if plan.reviews and medication_codes:
        for hold in plan.reviews:
            hold.entries.extend(entries[j] for j in medication_codes)

    if btype == "transaction" and result.rejected:
        result.rejected.sort(key=lambda issue: issue.index)
        return result  # all or nothing: nothing stored

    cancer_record_import(actor=actor, plan=plan, result=result, all_or_nothing=btype == "transaction",
                         channel=channel)
    result.rejected.sort(key=lambda issue: issue.index)
    return result


def _plan_patient(
    actor: Actor, entry: dict[str, Any], resource: dict[str, Any], plan: ImportPlan, overrides: dict[str, int | None], digest: str
) -> tuple[PlannedPatient, ReviewHold | None]:
    source_id = _entry_source_id(entry, resource)
    data = map_patient(resource, organization_id=plan.organization_id, synthetic=plan.synthetic)
    planned = PlannedPatient(entry_index=-1, source_id=source_id, content_hash=digest, action="create",
                             patient_id=None, data=data)
    if source_id in overrides:
        pid = overrides[source_id]
        planned.action, planned.patient_id = ("link", pid) if pid else ("create", None)
        planned.reason = "Decided in review."
        return planned, None
    visible = patient_queryset_for(actor)
    link = ImportedPatient.objects.filter(source_system=plan.source_system, source_id=source_id).first()
    if link is not None and visible.filter(pk=link.patient_id).exists():
        planned.action, planned.patient_id = "known", link.patient_id
        planned.link_changed = link.content_hash != digest
        return planned, None
    pairs = [(i.system, i.value) for i in data.identifiers or []]
    by_identifier: list[rules.Candidate] = []
    if pairs:
        q = Q()
        for system, value in pairs:
            q |= Q(system=system, value=value)
        ids = set(PatientIdentifier.objects.filter(q).values_list("patient_id", flat=True))
        seen = dict(visible.filter(pk__in=ids).values_list("pk", "birth_date"))
        by_identifier = [rules.Candidate(pid, pid in seen, seen.get(pid) == data.birth_date) for pid in sorted(ids)]
    given, family = data.given_name.casefold(), data.family_name.casefold()
    birth = data.birth_date
    assert birth is not None  # map_patient requires it
    exact = [rules.Candidate(pid, True) for pid in visible.filter(
        given_name_search=given, family_name_search=family, birth_date=birth).values_list("pk", flat=True)]
    near: list[rules.Candidate] = []
    if not by_identifier and not exact:
        near = [rules.Candidate(pid, True) for pid in visible.filter(
            Q(family_name_search=family, birth_date=birth)
            | Q(given_name_search=given, family_name_search=family, birth_date__year=birth.year)
        ).values_list("pk", flat=True)]
    decision = rules.decide_patient_match(by_identifier, exact, near)
    planned.reason, planned.candidates = decision.reason, decision.candidates
    if decision.action == "link":
        planned.action, planned.patient_id = "link", decision.patient_id
        return planned, None
    if decision.action == "create":
        return planned, None
    planned.action = "review"
    hold = ReviewHold(patient=planned, given_name=data.given_name, family_name=data.family_name,
                      birth_date=data.birth_date, gender=data.gender, entries=[])
    return planned, hold


def _plan_record(i: int, entry: dict[str, Any], resource: dict[str, Any], index: _Index,
                 medication_codes: dict[int, dict[str, Any]], digest: str) -> PlannedRecord:
    rtype = resource["resourceType"]
    source_id = _entry_source_id(entry, resource)
    if not source_id:
        raise MappingError("The resource has neither a fullUrl nor an id, so it could not be recognised again.")
    if rtype == "Condition":
        model, fields = "condition", map_condition(resource)
    elif rtype == "Procedure":
        model, fields = "procedure", map_procedure(resource)
    elif rtype in {"MedicationRequest", "MedicationAdministration"}:
        concept = None
        ref = _ref(resource.get("medicationReference"))
        if ref:
            j = index.find(ref)
            concept = medication_codes.get(j) if j is not None else None
        model, fields = "medication", map_medication(resource, concept)
    else:
        cls = rules.classify_observation(resource)
        if cls.target == "stage":
            model, fields = "stage", map_stage(resource, cls)
        elif cls.target == "performance":
            model, fields = "performance", map_performance(resource, cls)
        elif cls.target == "disease_status":
            model, fields = "disease_status", map_disease_status(resource)
        elif cls.target == "genomic_variant":
            model, fields = "genomic_variant", map_genomic_variant(resource)
        else:
            model, fields = "observation", map_observation(resource, cls)
    return PlannedRecord(model=model, resource_type=rtype, entry_index=i, source_id=source_id,
                         content_hash=digest, fields=fields)


def system_actor_for(organization_id: int, *, client_id: str = "import-fhir", source_address: str = "") -> Actor:
    """The actor of an import run by the operator for one organisation (full SMART scopes, audited)."""
    from oncoliaison.core.scopes import ScopeSet

    return system_actor(organization_id=organization_id, client_id=client_id,
                        scopes=ScopeSet.parse("system/*.cruds"), source_address=source_address)


# --- review of uncertain patient matches -------------------------------------------------------------


def _review_for_update(actor: Actor, review_id: int) -> ImportReview:
    review = ImportReview.objects.select_for_update().filter(pk=review_id).first()
    if review is None or review.organization_id not in actor.clinical_organization_ids:
        raise NotFound()
    if review.status != ReviewStatus.PENDING:
        raise Conflict("This review has already been decided.")
    return review


def import_review_resolve(
    *, actor: Actor, review: ImportReview, decision: str, patient_id: int | None = None, channel: str = ""
) -> ImportResult:
    """Decide an uncertain match: ``link`` to a patient the actor may see, ``create`` a new patient, or
    ``dismiss`` (nothing imported).  Linking and creating import the held records in the same transaction.
    """
    if actor.kind != "staff":
        raise Forbidden("Only care staff decide patient matches.")
    if decision not in {"link", "create", "dismiss"}:
        raise ValidationFailed("Choose link, create or dismiss.", field_errors={"decision": ["Invalid choice."]})
    with transaction.atomic():
        locked = _review_for_update(actor, review.pk)
        result = ImportResult()
        if decision == "link":
            if patient_id is None or not patient_queryset_for(actor).filter(pk=patient_id).exists():
                raise ValidationFailed("Choose a patient you can see.", field_errors={"patient": ["Required."]})
            overrides: dict[str, int | None] = {locked.source_id: patient_id}
        else:
            overrides = {locked.source_id: None}
        if decision != "dismiss":
            result = bundle_import(actor=actor, bundle=locked.bundle, source=locked.source_system,
                                   organization_id=locked.organization_id, channel=channel,
                                   _patient_overrides=overrides)
            link = ImportedPatient.objects.filter(source_system=locked.source_system,
                                                  source_id=locked.source_id).first()
            locked.resolved_patient_id = link.patient_id if link else patient_id
            locked.status = ReviewStatus.LINKED if decision == "link" else ReviewStatus.CREATED
        else:
            locked.status = ReviewStatus.DISMISSED
        locked.resolved_by_id = actor.user_id
        locked.resolved_at = clock.now()
        locked.save()
        audit.log(actor, AuditAction.UPDATE, category="import_review", resource_type="ImportReview",
                  resource_id=locked.pk, patient_id=locked.resolved_patient_id, detail=f"decision: {decision}",
                  channel=channel)
    return result
