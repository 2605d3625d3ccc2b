"""Export jobs move from the cancer record (oncology) to their own app.  State only: the table
``oncology_exportjob`` and its index and constraint stay as they are (``Meta.db_table``)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("oncology", "0005_cancer_record_entry_and_corrections"),
        ("organisations", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="ExportJob",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("key", models.CharField(help_text="Unguessable id used in the status and file URLs", max_length=64, unique=True)),
                        ("status", models.CharField(choices=[("queued", "Queued"), ("running", "Running"), ("completed", "Completed"), ("failed", "Failed"), ("cancelled", "Cancelled")], default="queued", max_length=12)),
                        ("level", models.CharField(choices=[("system", "System ($export)"), ("patient", "All patients (Patient/$export)"), ("group", "One organisation's patients (Group/[id]/$export)")], max_length=8)),
                        ("client_id", models.CharField(max_length=64)),
                        ("scopes", models.CharField(help_text="The token's scopes when the export was asked for", max_length=2000)),
                        ("types", models.JSONField(default=list)),
                        ("since", models.DateTimeField(blank=True, null=True)),
                        ("request_url", models.CharField(max_length=2000)),
                        ("transaction_time", models.DateTimeField(blank=True, null=True)),
                        ("progress", models.CharField(blank=True, max_length=100)),
                        ("output", models.JSONField(blank=True, default=list, help_text="[{type, file, count}]")),
                        ("error", models.CharField(blank=True, max_length=500)),
                        ("patient_count", models.PositiveIntegerField(default=0)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("started_at", models.DateTimeField(blank=True, null=True)),
                        ("finished_at", models.DateTimeField(blank=True, null=True)),
                        ("group_organization", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organisations.organization")),
                        ("organization", models.ForeignKey(help_text="The requesting client's organisation", on_delete=django.db.models.deletion.CASCADE, related_name="+", to="organisations.organization")),
                    ],
                    options={
                        "db_table": "oncology_exportjob",
                        "ordering": ["created_at", "id"],
                        "indexes": [models.Index(fields=["status", "created_at"], name="oncology_ex_status_f9c73c_idx")],
                        "constraints": [models.CheckConstraint(condition=models.Q(models.Q(("level", "group"), _negated=True), ("group_organization__isnull", False), _connector="OR"), name="export_job_group_names_organization")],
                    },
                ),
            ],
        ),
    ]
