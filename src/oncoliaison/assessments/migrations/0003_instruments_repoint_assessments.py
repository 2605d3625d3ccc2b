"""Fill each assessment's new reference with the version copied into the instruments app (``instruments.0002``
gave each needs-assessment version the number of its old id)."""

from django.db import migrations


def repoint(apps, schema_editor):
    Assessment = apps.get_model("assessments", "Assessment")
    Version = apps.get_model("instruments", "InstrumentVersion")
    moved = dict(Version.objects.filter(instrument__purpose="needs-assessment").values_list("number", "pk"))
    for old in Assessment.objects.order_by().values_list("instrument_version_id", flat=True).distinct():
        Assessment.objects.filter(instrument_version_id=old).update(instrument_version_moved_id=moved[old])


class Migration(migrations.Migration):
    dependencies = [("assessments", "0002_instruments_move_to_instruments_app")]

    operations = [migrations.RunPython(repoint, migrations.RunPython.noop)]
