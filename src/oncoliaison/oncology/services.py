"""Every write to the cancer record.  One transaction each, audited inside it."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from django.db import connection, transaction
from django.db.models import Model, Q

from oncoliaison.core import audit, bulk, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.bulkcreate import db_value
from oncoliaison.core.errors import Forbidden
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import PatientIdentifier
from oncoliaison.patients.selectors import patient_queryset_for
from oncoliaison.patients.services import IdentifierData, patient_create

from .importplan import EntryIssue, ImportPlan, ImportResult, PlannedRecord
from .models import (
    CancerCondition,
    ImportedPatient,
    ImportReview,
    ReviewStatus,
)
from .stored import CHUNK, HAS_CONDITION, MODELS, WRITE_ORDER, imported_rows


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
    bulk.insert_rows(model, [f.column for f in fields], params, chunk=CHUNK)


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
            existing = imported_rows(model, plan.source_system, [r.source_id for r in records])
            if name in HAS_CONDITION:
                missing = sorted({r.condition_ref for r in records if r.condition_ref} - set(condition_pk))
                condition_pk.update({sid: pk for sid, (pk, _h, _p) in
                                     imported_rows(CancerCondition, plan.source_system, missing).items()})
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
                    updates, sorted(field_names | {"patient_id", "content_hash", "updated_at"}), batch_size=CHUNK)
            if name == "condition":
                for obj in updates:
                    condition_pk[obj.source_id] = obj.pk  # type: ignore[attr-defined]  # every imported record model has source_id
                condition_pk.update({sid: pk for sid, (pk, _h, _p) in imported_rows(
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
