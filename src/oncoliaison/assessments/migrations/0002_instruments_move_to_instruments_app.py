"""Assessments answer versions of the instruments app: fill the new reference from the copied versions
(``instruments.0002`` gave each the number of its old id).  The old tables go in 0003 (a separate migration, so
that PostgreSQL has checked the new references before the table changes again)."""

import django.db.models.deletion
from django.db import migrations, models


def repoint(apps, schema_editor):
    Assessment = apps.get_model("assessments", "Assessment")
    Version = apps.get_model("instruments", "InstrumentVersion")
    moved = dict(Version.objects.filter(instrument__purpose="needs-assessment").values_list("number", "pk"))
    for old in Assessment.objects.values_list("instrument_version_id", flat=True).distinct():
        Assessment.objects.filter(instrument_version_id=old).update(instrument_version_moved_id=moved[old])


class Migration(migrations.Migration):
    dependencies = [
        ("assessments", "0001_needs_assessments"),
        ("instruments", "0002_instruments_copy_from_domains"),
    ]

    operations = [
        migrations.AddField(
            model_name="assessment",
            name="instrument_version_moved",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="instruments.instrumentversion"),
        ),
        migrations.RunPython(repoint, migrations.RunPython.noop),
    ]
