"""Load the symptom instruments (ESAS-r, PRO-CTCAE) and their items from their data files (``instruments.files``)
into the instruments app.  Idempotent: a version already there (copied from this app's tables) is left alone."""

from django.db import migrations


def load(apps, schema_editor):
    from oncoliaison.monitoring.instruments import load_instruments

    load_instruments(apps)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0006_instruments_move_to_instruments_app")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
