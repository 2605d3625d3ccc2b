"""Alert reasons by clinical weight: the summary becomes unbounded text (red flags are never cut) and the
alerts already stored get their reasons reordered and their summary rebuilt (monitoring.rules)."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models


def reorder(apps: Any, schema_editor: Any) -> None:
    from oncoliaison.monitoring import rules

    Alert = apps.get_model("monitoring", "Alert")
    for alert in Alert.objects.only("id", "reasons", "summary").iterator():
        reasons = [rules.Reason(**{k: str(r.get(k, "")) for k in ("rule", "severity", "symptom", "label", "detail")})
                   for r in alert.reasons or []]
        ordered = [r.as_dict() for r in rules.order_reasons(reasons)]
        summary = rules.summarise(reasons)
        if ordered != alert.reasons or summary != alert.summary:
            Alert.objects.filter(pk=alert.pk).update(reasons=ordered, summary=summary)


class Migration(migrations.Migration):
    dependencies = [("monitoring", "0003_item_wording_short_label")]

    operations = [
        migrations.AlterField(
            model_name="alert", name="summary",
            field=models.TextField(help_text="The reasons in one line, by clinical weight; red flags never cut"),
        ),
        migrations.AlterField(
            model_name="alert", name="reasons",
            field=models.JSONField(help_text="[{rule, symptom, label, severity, detail}], by clinical weight"),
        ),
        migrations.RunPython(reorder, migrations.RunPython.noop),
    ]
