"""Page forms: they only check the shape of the input; the services apply the rules."""

from __future__ import annotations

from typing import Any

from django import forms

from oncoliaison.instruments.models import Instrument, InstrumentItem, Purpose

from .models import STAFF_ACTIONS, ActionKind


class ReportForm(forms.Form):
    """One field per item, built from the instrument's items (so any instrument renders).  Staff read the
    question to the patient as published (``item.text``); the short label names it for the record."""

    def __init__(self, *args: Any, items: list[InstrumentItem], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = items
        for item in items:
            if item.kind == "scale":
                choices = [("", "—")] + [(str(v), str(v)) for v in range(item.min_value or 0, (item.max_value or 10) + 1)]
                self.fields[item.link_id] = forms.TypedChoiceField(
                    label=item.text, choices=choices, coerce=int, empty_value=None, required=False,
                    help_text=f"0 = {item.anchor_low}, 10 = {item.anchor_high}",
                )
            elif item.kind in ("ordinal", "presence"):
                choices = [("", "—")] + [(str(n), label) for n, label in enumerate(item.options)]
                choices += [(f"missing:{label}", label) for label in item.missing_options]
                self.fields[item.link_id] = forms.ChoiceField(label=item.text, choices=choices, required=False,
                                                              help_text=item.short_label)
            elif item.kind == "text":
                self.fields[item.link_id] = forms.CharField(label=item.text, max_length=200, required=False)
            else:
                self.fields[item.link_id] = forms.CharField(
                    label=item.text, required=False, max_length=4000,
                    widget=forms.Textarea(attrs={"rows": 3}),
                )

    def answers(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in self.items:
            value = self.cleaned_data.get(item.link_id)
            if item.kind in ("ordinal", "presence"):
                if value in ("", None):
                    continue  # not asked / skipped
                out[item.link_id] = None if str(value).startswith("missing:") else int(value)
            elif item.kind == "scale":
                if value is not None:
                    out[item.link_id] = value
            elif value:
                out[item.link_id] = value
        return out


class ActionForm(forms.Form):
    # Nothing is pre-selected: recording an action is a statement of what was done, never a default.
    kind = forms.ChoiceField(label="Action taken",
                             choices=[("", "Choose what was done…"), *((k.value, k.label) for k in STAFF_ACTIONS)])
    note = forms.CharField(label="Note", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class ResolveForm(forms.Form):
    note = forms.CharField(label="What was done", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class PermissionForm(forms.Form):
    granted_by = forms.CharField(label="Granted by", max_length=200, help_text="e.g. National Cancer Institute")
    reference = forms.CharField(label="Reference", max_length=200, help_text="Letter, agreement or e-mail reference")
    granted_on = forms.DateField(label="Granted on", widget=forms.DateInput(attrs={"type": "date"}))
    expires_on = forms.DateField(label="Expires on", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    scope_note = forms.CharField(label="What it covers", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ScheduleForm(forms.Form):
    instrument = forms.ModelChoiceField(label="Instrument", queryset=Instrument.objects.filter(
        purpose=Purpose.SYMPTOM_MONITORING).order_by("code"))
    care_plan_label = forms.CharField(label="Care plan", max_length=120, help_text="e.g. Active chemotherapy")
    frequency_days = forms.IntegerField(label="Every (days)", min_value=1, max_value=90, initial=7)
    starts_on = forms.DateField(label="Starts on", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Ends on", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    proctcae_terms = forms.CharField(label="PRO-CTCAE term numbers", required=False,
                                     help_text="For PRO-CTCAE: the symptoms of this care plan, e.g. 9 10 16 53")

    def clean_proctcae_terms(self) -> list[int]:
        raw = self.cleaned_data.get("proctcae_terms") or ""
        try:
            return [int(t) for t in raw.replace(",", " ").split()]
        except ValueError:
            raise forms.ValidationError("Enter term numbers separated by spaces.") from None


ACTION_LABELS = {k.value: k.label for k in ActionKind}


class RuleForm(forms.Form):
    """One alert rule of a program; only the settings of its kind are used."""

    enabled = forms.BooleanField(label="On", required=False)
    severity = forms.ChoiceField(label="Alert severity", choices=[("severe", "Severe"), ("moderate", "Moderate"),
                                                                  ("mild", "Mild")])
    esas_at = forms.IntegerField(label="ESAS-r score at or above", min_value=1, max_value=10, required=False)
    grade_at = forms.IntegerField(label="PRO-CTCAE grade at or above", min_value=1, max_value=3, required=False)
    points = forms.IntegerField(label="ESAS-r rise of at least (points)", min_value=1, max_value=10, required=False)
    grades = forms.IntegerField(label="PRO-CTCAE rise of at least (grades)", min_value=1, max_value=3, required=False)
    presence = forms.BooleanField(label="Count newly present yes/no symptoms", required=False)
    phrases = forms.CharField(label="Red-flag phrases (one per line)", required=False,
                              widget=forms.Textarea(attrs={"rows": 6}))

    reason = forms.CharField(label="Reason for switching it off", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text="Required to switch the rule off; it is recorded and shown to the CLP.")
    confirm = forms.BooleanField(label="I understand that patients with active schedules stop getting this alert",
                                 required=False)

    PARAMS = {"severe": ("esas_at", "grade_at"), "worsening": ("points", "grades", "grade_at"),
              "new_symptom": ("esas_at", "grade_at", "presence"), "red_flag": ("phrases",)}

    def params_for(self, kind: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name in self.PARAMS.get(kind, ()):
            value = self.cleaned_data.get(name)
            if name == "phrases":
                out[name] = [line.strip() for line in str(value or "").splitlines() if line.strip()]
            elif name == "presence":
                out[name] = bool(value)
            elif value is not None:
                out[name] = value
        return out


class PolicyForm(forms.Form):
    severe_minutes = forms.IntegerField(label="Severe: respond within (minutes)", min_value=5, max_value=1440)
    moderate_business_days = forms.IntegerField(label="Moderate: business days", min_value=0, max_value=10)
    mild_business_days = forms.IntegerField(label="Mild: business days", min_value=0, max_value=20)
    business_day_end_hour = forms.IntegerField(label="Business day ends at (hour)", min_value=8, max_value=22)
    holidays = forms.CharField(label="Holidays (YYYY-MM-DD, one per line)", required=False,
                               widget=forms.Textarea(attrs={"rows": 4}))

    def clean_holidays(self) -> list[Any]:
        import datetime as dt

        out = []
        for line in str(self.cleaned_data.get("holidays") or "").split():
            try:
                out.append(dt.date.fromisoformat(line.strip()))
            except ValueError:
                raise forms.ValidationError(f"'{line}' is not a date (YYYY-MM-DD).") from None
        return out


class SwitchOffForm(forms.Form):
    """Why an instrument's permission is disabled, and the confirmation that names who is affected."""

    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                             required=False, help_text="Recorded with the change and shown to the CLP.")
    confirm = forms.BooleanField(label="I understand that the patients listed can no longer report on this "
                                       "instrument", required=False)
