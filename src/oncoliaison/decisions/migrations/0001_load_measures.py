"""Load the shared-decision measures (SURE, CollaboRATE, SDM-Q-9) and the patient-experience measure (the
likelihood-to-recommend question of the Net Promoter Score) from their data files into the instruments app.
Idempotent: a version already there is left alone.
Unapplied, it removes them (their purpose is unknown before)."""

from django.db import migrations


def load(apps, schema_editor):
    from oncoliaison.decisions.instruments import load_measures

    load_measures(apps)


def unload(apps, schema_editor):
    from oncoliaison.decisions.instruments import unload_measures

    unload_measures(schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [("instruments", "0003_purposes_decision_support_experience_quality_of_life")]

    operations = [migrations.RunPython(load, unload)]
