"""The assessment's reference to its instrument version is the one into the instruments app; the needs-assessment
instrument, version and permission tables of this app are gone (their rows are in the instruments app)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("assessments", "0003_instruments_repoint_assessments")]

    operations = [
        migrations.RemoveField(model_name="assessment", name="instrument_version"),
        migrations.RenameField(model_name="assessment", old_name="instrument_version_moved",
                               new_name="instrument_version"),
        migrations.AlterField(
            model_name="assessment",
            name="instrument_version",
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="assessments",
                                    to="instruments.instrumentversion"),
        ),
        migrations.CreateModel(
            name="AssessmentQuestionnaire",
            fields=[],
            options={"proxy": True, "indexes": [], "constraints": []},
            bases=("instruments.instrumentversion",),
        ),
        migrations.DeleteModel(name="InstrumentPermission"),
        migrations.DeleteModel(name="InstrumentVersion"),
        migrations.DeleteModel(name="Instrument"),
    ]
