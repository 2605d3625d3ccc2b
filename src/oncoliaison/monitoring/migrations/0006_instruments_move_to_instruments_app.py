"""Reports and schedules point at the instruments app, whose rows kept the ids of this app's instruments and
versions (``instruments.0002`` copied them); this app's instrument, version, item and permission tables go."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0005_switch_off_reasons"),
        ("instruments", "0002_instruments_copy_from_domains"),
    ]

    operations = [
        migrations.AlterField(
            model_name="symptomreport",
            name="version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="reports",
                                    to="instruments.instrumentversion"),
        ),
        migrations.AlterField(
            model_name="reportschedule",
            name="instrument",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+",
                                    to="instruments.instrument"),
        ),
        migrations.CreateModel(
            name="SymptomQuestionnaire",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("instruments.instrumentversion",),
        ),
        migrations.DeleteModel(name="InstrumentPermission"),
        migrations.DeleteModel(name="InstrumentItem"),
        migrations.DeleteModel(name="InstrumentVersion"),
        migrations.DeleteModel(name="SymptomInstrument"),
    ]
