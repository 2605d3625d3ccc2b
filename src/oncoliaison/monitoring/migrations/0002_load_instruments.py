"""The instruments (ESAS-r, PRO-CTCAE) were loaded here into this app's own tables; they are now rows of the
instruments app, loaded by ``0007_load_instruments_into_instruments_app`` (a database that ran this migration
before keeps its rows: ``instruments.0002`` copies them, with their ids)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0001_symptom_monitoring")]

    operations: list[migrations.operations.base.Operation] = []
