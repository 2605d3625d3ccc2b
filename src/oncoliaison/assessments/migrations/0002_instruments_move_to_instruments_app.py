"""Assessments answer versions of the instruments app: the new reference, filled in 0003 and made the one
reference in 0004.  Three migrations, so that on PostgreSQL each runs in its own transaction (an UPDATE of rows
with a deferred foreign key cannot be followed by index changes of the same table in one transaction)."""

import django.db.models.deletion
from django.db import migrations, models


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
    ]
