"""Items ask their published question (PRO-CTCAE: NCI's item wording, not the item library's short labels,
which move to ``short_label`` for staff views and charts); the hair-loss and vaginal-discharge "amount"
items get their published response options; each version records the languages it is published in."""

from django.db import migrations, models


def refresh(apps, schema_editor):
    from oncoliaison.monitoring.instruments import refresh_item_wording

    refresh_item_wording(apps, app_label="monitoring")


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0002_load_instruments")]

    operations = [
        migrations.AddField(
            model_name="instrumentitem",
            name="short_label",
            field=models.CharField(blank=True, help_text="Short name for staff views and charts (e.g. 'Pain Frequency').",
                                   max_length=120),
        ),
        migrations.AlterField(
            model_name="instrumentitem",
            name="text",
            field=models.CharField(help_text="The question as the instrument's publisher prints it.", max_length=250),
        ),
        migrations.RunPython(refresh, migrations.RunPython.noop),
    ]
