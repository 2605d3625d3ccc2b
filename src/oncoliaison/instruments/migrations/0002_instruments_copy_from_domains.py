"""Copy the instruments of needs assessments and of symptom monitoring into the one instruments app.

- Symptom instruments, versions and items keep their primary keys (reports, schedules and items point at them);
  the needs-assessment ones get new keys (``assessments.0002`` repoints the assessments).
- Each version's ``number`` is its old primary key, so Questionnaire ids (``symptom-<n>``, ``assessment-<n>``)
  stay the same.
- Permissions become history rows: a symptom-monitoring permission is a grant, followed by its withdrawal when
  it was disabled; a needs-assessment switch is a grant when on, a switch-off (with the fields it still had)
  when off.
"""

import hashlib
import json

from django.core.management.color import no_style
from django.db import migrations

SYMPTOM, NEEDS = "symptom-monitoring", "needs-assessment"


def _checksum(definition):
    return hashlib.sha256(json.dumps(definition, sort_keys=True).encode()).hexdigest()


def _reset_sequences(schema_editor, models):
    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), models):
        schema_editor.execute(sql)


def copy(apps, schema_editor):
    Instrument = apps.get_model("instruments", "Instrument")
    Version = apps.get_model("instruments", "InstrumentVersion")
    Item = apps.get_model("instruments", "InstrumentItem")
    Permission = apps.get_model("instruments", "InstrumentPermission")

    # --- symptom monitoring: keys kept -------------------------------------------------------------------
    m_instruments = list(apps.get_model("monitoring", "SymptomInstrument").objects.order_by("pk"))
    methods = {i.pk: i.scoring_method for i in m_instruments}
    Instrument.objects.bulk_create([
        Instrument(pk=i.pk, code=i.code, purpose=SYMPTOM, title=i.title, publisher=i.publisher,
                   source_url=i.source_url, citation=i.citation, licence=i.licence_text,
                   requires_permission=i.requires_permission)
        for i in m_instruments
    ])
    codes = {i.pk: i.code for i in m_instruments}
    Version.objects.bulk_create([
        Version(pk=v.pk, instrument_id=v.instrument_id, version=v.version, number=v.pk, status="active",
                current=v.current, scoring=methods[v.instrument_id], recall=v.recall, definition=v.definition,
                checksum=_checksum(v.definition),
                loaded_from=f"monitoring/fixtures/instruments ({codes[v.instrument_id]})")
        for v in apps.get_model("monitoring", "InstrumentVersion").objects.order_by("pk")
    ])
    Item.objects.bulk_create([
        Item(pk=i.pk, version_id=i.version_id, link_id=i.link_id, order=i.order, text=i.text,
             short_label=i.short_label, kind=i.kind, symptom=i.symptom, symptom_label=i.symptom_label,
             attribute=i.attribute, term=i.term, min_value=i.min_value, max_value=i.max_value, options=i.options,
             missing_options=i.missing_options, anchor_low=i.anchor_low, anchor_high=i.anchor_high)
        for i in apps.get_model("monitoring", "InstrumentItem").objects.order_by("pk")
    ])
    _reset_sequences(schema_editor, [Instrument, Version, Item])
    for p in apps.get_model("monitoring", "InstrumentPermission").objects.order_by("recorded_at", "pk"):
        grant = Permission.objects.create(
            instrument_id=p.instrument_id, organization_id=p.organization_id, kind="grant", reference=p.reference,
            granted_by=p.granted_by, granted_on=p.granted_on, expires_on=p.expires_on, note=p.scope_note,
            recorded_by_id=p.recorded_by_id, recorded_at=p.recorded_at)
        if not p.enabled:
            Permission.objects.create(
                instrument_id=p.instrument_id, organization_id=p.organization_id, kind="withdraw", withdraws=grant,
                reason=p.disabled_reason, recorded_by_id=p.disabled_by_id, recorded_at=p.disabled_at or p.recorded_at)

    # --- needs assessments: new keys -----------------------------------------------------------------------
    new_instrument = {}
    for i in apps.get_model("assessments", "Instrument").objects.order_by("pk"):
        if Instrument.objects.filter(code=i.code).exists():
            raise RuntimeError(f"Instrument code {i.code} is used by both needs assessments and symptom monitoring; "
                               "rename one before migrating.")
        new_instrument[i.pk] = Instrument.objects.create(
            code=i.code, purpose=NEEDS, title=i.title, publisher=i.publisher, source_url=i.source_url,
            citation=i.citation, licence=i.licence, requires_permission=i.requires_permission,
            loinc_code=i.loinc_code, created_at=i.created_at)
    a_versions = list(apps.get_model("assessments", "InstrumentVersion").objects.order_by("pk"))
    current = {}
    for v in sorted(a_versions, key=lambda v: (v.created_at, v.pk)):
        if v.status == "active":
            current[v.instrument_id] = v.pk  # the latest active version was the one asked
    for v in a_versions:
        Version.objects.create(
            instrument=new_instrument[v.instrument_id], version=v.version, number=v.pk, status=v.status,
            current=current.get(v.instrument_id) == v.pk, scoring=v.scoring, definition=v.definition,
            checksum=v.checksum, loaded_from=v.loaded_from, created_at=v.created_at)
    for p in apps.get_model("assessments", "InstrumentPermission").objects.order_by("updated_at", "pk"):
        Permission.objects.create(
            instrument=new_instrument[p.instrument_id], organization_id=p.organization_id,
            kind="grant" if p.enabled else "switch-off", reference=p.permission_reference,
            holder=p.permission_holder, granted_on=p.granted_on, expires_on=p.expires_on, note=p.note,
            recorded_by_id=p.recorded_by_id, recorded_at=p.updated_at)
    _reset_sequences(schema_editor, [Instrument, Version, Item, Permission])


class Migration(migrations.Migration):
    dependencies = [
        ("instruments", "0001_instruments"),
        ("assessments", "0001_needs_assessments"),
        ("monitoring", "0005_switch_off_reasons"),
    ]

    operations = [migrations.RunPython(copy, migrations.RunPython.noop)]
