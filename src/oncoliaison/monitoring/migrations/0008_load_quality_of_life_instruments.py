"""Load the quality-of-life instruments (EORTC QLQ-C30 v3.0, PROMIS-29 v2.1) from their data files into the
instruments app.  Idempotent: a version already there is left alone.
Unapplied, it removes them (their purpose is unknown before)."""

from django.db import migrations


def load(apps, schema_editor):
    from oncoliaison.monitoring.instruments import load_quality_of_life

    load_quality_of_life(apps)


def unload(apps, schema_editor):
    from oncoliaison.monitoring.instruments import unload_quality_of_life

    unload_quality_of_life(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0007_load_instruments_into_instruments_app"),
        ("instruments", "0003_purposes_decision_support_experience_quality_of_life"),
    ]

    operations = [migrations.RunPython(load, unload)]
