"""Instrument purposes for shared decisions, patient experience and quality of life."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('instruments', '0002_instruments_copy_from_domains'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='instrument',
            name='instrument_purpose_known',
        ),
        migrations.AlterField(
            model_name='instrument',
            name='purpose',
            field=models.CharField(choices=[('needs-assessment', 'Needs assessment'), ('symptom-monitoring', 'Symptom monitoring'), ('decision-support', 'Shared decision-making'), ('experience', 'Patient experience'), ('quality-of-life', 'Quality of life')], max_length=32),
        ),
        migrations.AddConstraint(
            model_name='instrument',
            constraint=models.CheckConstraint(condition=models.Q(('purpose__in', ['needs-assessment', 'symptom-monitoring', 'decision-support', 'experience', 'quality-of-life'])), name='instrument_purpose_known'),
        ),
    ]
