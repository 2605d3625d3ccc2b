"""Load the instruments (ESAS-r, PRO-CTCAE) and their items from monitoring/fixtures/instruments."""

from django.db import migrations


def load(apps, schema_editor):
    from oncoliaison.monitoring.instruments import load_instruments

    load_instruments(apps)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_symptom_monitoring")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
