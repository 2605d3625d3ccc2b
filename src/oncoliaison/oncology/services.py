"""Every write to the cancer record.  One transaction each, audited inside it."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Model, Q

from oncoliaison.core import audit, bulk, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.bulkcreate import db_value
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import PatientIdentifier
from oncoliaison.patients.selectors import patient_queryset_for
from oncoliaison.patients.services import IdentifierData, patient_create

from .models import (
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    DiseaseStatus,
    GenomicVariant,
    ImportedPatient,
    ImportReview,
    Medication,
    PerformanceStatus,
    Procedure,
    ReviewStatus,
)

if TYPE_CHECKING:
    from .importing import ImportPlan, ImportResult, PlannedRecord

MODELS: dict[str, type[Model]] = {
    "condition": CancerCondition,
    "stage": CancerStage,
    "observation": ClinicalObservation,
    "genomic_variant": GenomicVariant,
    "procedure": Procedure,
    "medication": Medication,
    "performance": PerformanceStatus,
    "disease_status": DiseaseStatus,
}
# Conditions first: the other records point at them.
WRITE_ORDER = ("condition", "stage", "observation", "genomic_variant", "procedure", "medication", "performance",
               "disease_status")
HAS_CONDITION = frozenset({"stage", "observation", "genomic_variant", "procedure", "medication", "disease_status"})
_CHUNK = 500


def _existing(model: type[Model], source_system: str, source_ids: list[str]) -> dict[str, tuple[int, str, int]]:
    """source_id → (pk, content_hash, patient_id) of rows already imported from this source.

    Plain parameterised SQL: the ORM's per-value handling of large IN lists cost more than the query.  On
    PostgreSQL the ids go as one array (``= ANY(%s)``), so the statement text never changes and the driver
    converts it once; an IN list of placeholders is re-tokenised on every call, in Python.
    """
    found: dict[str, tuple[int, str, int]] = {}
    if not source_ids:
        return found
    qn = connection.ops.quote_name
    select = (f"SELECT source_id, id, content_hash, patient_id FROM {qn(model._meta.db_table)} "  # noqa: S608
              "WHERE source_system = %s AND source_id ")  # table from the model's metadata
    queries: list[tuple[str, list[Any]]]
    if connection.vendor == "postgresql":
        queries = [(select + "= ANY(%s)", [source_system, list(source_ids)])]
    else:
        queries = [(select + f"IN ({', '.join(['%s'] * len(chunk))})", [source_system, *chunk])
                   for chunk in (source_ids[n:n + _CHUNK] for n in range(0, len(source_ids), _CHUNK))]
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            for sid, pk, digest, pid in cursor.fetchall():
                found[sid] = (pk, digest, pid)
    return found


def _unclaimed(identifiers: list[IdentifierData]) -> list[IdentifierData]:
    """Identifiers no patient holds yet (one that does was already reviewed by a person: drop it)."""
    if not identifiers:
        return []
    q = Q()
    for ident in identifiers:
        q |= Q(system=ident.system, value=ident.value)
    taken = set(PatientIdentifier.objects.filter(q).values_list("system", "value"))
    return [i for i in identifiers if (i.system, i.value) not in taken]


def _insert_rows(model: type[Model], rows: list[dict[str, Any]]) -> None:
    """INSERT plain rows in bulk (``core.bulk``: COPY on PostgreSQL, one prepared executemany elsewhere).

    The same conversions as ``bulk_create`` (each field's ``get_db_prep_save``), without building a model
    instance and compiling SQL per value — the import's hottest path.  Unset fields take their defaults;
    ``created_at`` / ``updated_at`` are set here (no ``pre_save`` runs).
    """
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = clock.now()
    defaults = {f.attname: f.get_default() for f in fields}
    defaults["created_at"] = defaults["updated_at"] = now
    converters = [db_value(f, connection) for f in fields]
    params = []
    for row in rows:
        merged = {**defaults, **row}
        params.append([convert(merged[f.attname]) for f, convert in zip(fields, converters, strict=True)])
    bulk.insert_rows(model, [f.column for f in fields], params, chunk=_CHUNK)


def _entry_key(entry: dict[str, Any]) -> str:
    resource = entry.get("resource") or {}
    return str(entry.get("fullUrl") or f"{resource.get('resourceType')}/{resource.get('id')}")


def _review_hold_more(actor: Actor, review_id: int, additions: list[tuple[int, dict[str, Any]]], result: ImportResult,
                      channel: str) -> None:
    """Add entries about a patient who is waiting in a review; a newer version of an entry replaces it."""
    review = ImportReview.objects.select_for_update().filter(pk=review_id, status=ReviewStatus.PENDING).first()
    if review is None:
        return
    entries = list(review.bundle.get("entry") or [])
    position = {_entry_key(e): n for n, e in enumerate(entries)}
    for index, entry in additions:
        key = _entry_key(entry)
        if key in position:
            entries[position[key]] = entry
        else:
            position[key] = len(entries)
            entries.append(entry)
        result.entry_status[index] = "202 Accepted"
    review.bundle = {**review.bundle, "entry": entries}
    review.resource_count = sum(1 for e in entries if (e.get("resource") or {}).get("resourceType") != "Medication")
    review.save(update_fields=["bundle", "resource_count", "updated_at"])
    result.queued += len(additions)
    if review.pk not in result.review_ids:
        result.review_ids.append(review.pk)
    audit.log(actor, AuditAction.UPDATE, category="import_review", resource_type="ImportReview",
              resource_id=review.pk, detail=f"{len(additions)} more record(s) held", channel=channel)


class _RolledBack(Exception):
    pass


def cancer_record_import(
    *, actor: Actor, plan: ImportPlan, result: ImportResult, all_or_nothing: bool = False, channel: str = ""
) -> None:
    """Write an import plan (built by ``importing.bundle_import``) in one transaction.

    Creates or links patients, queues uncertain matches for review, creates new records, updates records
    whose content changed and leaves identical ones alone.  Fills the counters of ``result``.  With
    ``all_or_nothing`` (transaction bundles) a record refused here rolls everything back.
    """
    if not actor.clinical_organization_ids or plan.organization_id not in actor.clinical_organization_ids:
        raise Forbidden("You may import records only into an organisation where you have a care role.")
    audit_counts: Counter[tuple[str, str, int]] = Counter()  # (action, resource type, patient) → records
    rejected_before = len(result.rejected)
    try:
        _write(actor, plan, result, audit_counts, rejected_before if all_or_nothing else None, channel)
    except _RolledBack:
        for counter in (result.created, result.updated, result.unchanged):
            counter.clear()
        result.entry_status.clear()
        result.queued, result.review_ids, result.patients_created, result.patients_linked = 0, [], 0, 0
        result.stored = False
        return
    result.stored = True


def _write(actor: Actor, plan: ImportPlan, result: ImportResult, audit_counts: Counter[tuple[str, str, int]],
           rollback_above: int | None, channel: str) -> None:
    from .importing import EntryIssue

    with transaction.atomic():
        entry_patient: dict[int, int] = {}
        for p in plan.patients:
            if p.action == "create":
                assert p.data is not None
                p.data.identifiers = _unclaimed(p.data.identifiers or [])
                patient = patient_create(actor=actor, data=p.data, channel=channel)
                pid = patient.pk
                result.created["Patient"] += 1
                result.patients_created += 1
                result.entry_status[p.entry_index] = "201 Created"
            else:
                result.entry_status[p.entry_index] = "200 OK"
                assert p.patient_id is not None
                pid = p.patient_id
                if p.action == "link":
                    result.updated["Patient"] += 1
                    result.patients_linked += 1
                    audit_counts[(AuditAction.UPDATE, "Patient", pid)] += 1
                elif p.link_changed:
                    result.updated["Patient"] += 1
                else:
                    result.unchanged["Patient"] += 1
            entry_patient[p.entry_index] = pid
            ImportedPatient.objects.update_or_create(
                source_system=plan.source_system, source_id=p.source_id,
                defaults={"patient_id": pid, "content_hash": p.content_hash},
            )

        for hold in plan.reviews:
            held = [e for e in hold.entries if (e.get("resource") or {}).get("resourceType") != "Medication"]
            review = ImportReview.objects.filter(
                source_system=plan.source_system, source_id=hold.patient.source_id, status=ReviewStatus.PENDING
            ).first()
            if review is None:
                review = ImportReview(organization_id=plan.organization_id, source_system=plan.source_system,
                                      source_id=hold.patient.source_id)
            review.reason = hold.patient.reason[:300]
            review.content_hash = hold.patient.content_hash
            review.given_name, review.family_name = hold.given_name, hold.family_name
            review.birth_date, review.gender = hold.birth_date, hold.gender
            review.bundle = {"resourceType": "Bundle", "type": "collection", "entry": hold.entries}
            review.resource_count = len(held)
            review.save()
            visible = set(patient_queryset_for(actor).filter(pk__in=hold.patient.candidates)
                          .values_list("pk", flat=True))
            review.candidates.set(sorted(visible))
            result.queued += len(held)
            for index in hold.indexes:
                result.entry_status[index] = "202 Accepted"
            result.review_ids.append(review.pk)
            audit.log(actor, AuditAction.CREATE, category="import_review", resource_type="ImportReview",
                      resource_id=review.pk, channel=channel)

        for review_id, additions in plan.review_additions.items():
            _review_hold_more(actor, review_id, additions, result, channel)

        by_model: dict[str, list[PlannedRecord]] = defaultdict(list)
        for record in plan.records:
            if record.patient_id is None and record.patient_entry is not None:
                record.patient_id = entry_patient.get(record.patient_entry)
            by_model[record.model].append(record)
        wanted_patients = {r.patient_id for r in plan.records if r.patient_id}
        visible_patients = set(patient_queryset_for(actor).filter(pk__in=wanted_patients)
                               .values_list("pk", flat=True))

        condition_pk: dict[str, int] = {}
        for name in WRITE_ORDER:
            records = by_model.get(name)
            if not records:
                continue
            model = MODELS[name]
            existing = _existing(model, plan.source_system, [r.source_id for r in records])
            if name in HAS_CONDITION:
                missing = sorted({r.condition_ref for r in records if r.condition_ref} - set(condition_pk))
                condition_pk.update({sid: pk for sid, (pk, _h, _p) in
                                     _existing(CancerCondition, plan.source_system, missing).items()})
            creates: list[dict[str, Any]] = []
            updates: list[Model] = []
            field_names: set[str] = set()
            for r in records:
                if r.patient_id not in visible_patients:
                    result.rejected.append(EntryIssue(r.entry_index, r.resource_type, r.source_id[-64:],
                                                      "Its patient is not one you may record data for.",
                                                      "forbidden"))
                    continue
                before = existing.get(r.source_id)
                if before is not None and before[2] not in visible_patients:
                    result.rejected.append(EntryIssue(
                        r.entry_index, r.resource_type, r.source_id[-64:],
                        "A record with this identity is held for another organisation; it was not changed.",
                        "conflict"))
                    continue
                values: dict[str, Any] = dict(r.fields)
                if name in HAS_CONDITION:
                    values["condition_id"] = condition_pk.get(r.condition_ref) if r.condition_ref else None
                if before is not None and before[1] == r.content_hash:
                    result.unchanged[r.resource_type] += 1
                    result.entry_status[r.entry_index] = "200 OK"
                    if name == "condition":
                        condition_pk[r.source_id] = before[0]
                    continue
                values.update(patient_id=r.patient_id, source_system=plan.source_system, source_id=r.source_id,
                              content_hash=r.content_hash)
                if before is None:
                    creates.append(values)
                    result.created[r.resource_type] += 1
                    result.entry_status[r.entry_index] = "201 Created"
                    audit_counts[(AuditAction.CREATE, r.resource_type, r.patient_id)] += 1
                else:
                    obj = model(**values)
                    obj.pk = before[0]
                    updates.append(obj)
                    field_names.update(values)
                    result.updated[r.resource_type] += 1
                    result.entry_status[r.entry_index] = "200 OK"
                    audit_counts[(AuditAction.UPDATE, r.resource_type, r.patient_id)] += 1
            if creates:
                _insert_rows(model, creates)
            if updates:
                now = clock.now()
                for obj in updates:
                    obj.updated_at = now  # type: ignore[attr-defined]  # every imported record model has updated_at
                model._default_manager.bulk_update(
                    updates, sorted(field_names | {"patient_id", "content_hash", "updated_at"}), batch_size=_CHUNK)
            if name == "condition":
                for obj in updates:
                    condition_pk[obj.source_id] = obj.pk  # type: ignore[attr-defined]  # every imported record model has source_id
                condition_pk.update({sid: pk for sid, (pk, _h, _p) in _existing(
                    CancerCondition, plan.source_system, [row["source_id"] for row in creates]).items()})

        audit.record(
            actor,
            [
                audit.Entry(action, category="oncology", resource_type=rtype, patient_id=pid,
                            detail=f"import from {plan.source_system[:200]}: {n} record(s)")
                for (action, rtype, pid), n in sorted(audit_counts.items())
            ],
            channel=channel,
        )
        if rollback_above is not None and len(result.rejected) > rollback_above:
            raise _RolledBack()


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
    from .importing import ImportResult, bundle_import

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
