"""Export jobs now belong to the exports app (exports.0001 takes over the same table).  State only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("oncology", "0005_cancer_record_entry_and_corrections"),
        ("exports", "0001_export_jobs_from_oncology"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name="ExportJob")],
        ),
    ]
