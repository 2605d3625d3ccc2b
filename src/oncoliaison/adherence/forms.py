"""Forms of the adherence page (shape only; the services validate meaning)."""

from __future__ import annotations

from django import forms


class DispenseForm(forms.Form):
    medication_code = forms.CharField(max_length=20, label="RxNorm code")
    medication_display = forms.CharField(max_length=200, label="Medication")
    dispensed_on = forms.DateField(label="Dispensed on", widget=forms.DateInput(attrs={"type": "date"}))
    days_supply = forms.IntegerField(min_value=1, label="Days' supply",
                                     help_text="For a cyclic regimen: the dosing days this fill supplies.")
    quantity = forms.DecimalField(required=False, min_value=0, max_digits=9, decimal_places=2)
    quantity_unit = forms.CharField(max_length=30, required=False, label="Unit")


class RegimenForm(forms.Form):
    medication_code = forms.CharField(max_length=20, label="RxNorm code")
    medication_display = forms.CharField(max_length=200, label="Medication")
    starts_on = forms.DateField(label="Cycle 1, day 1", widget=forms.DateInput(attrs={"type": "date"}))
    days_on = forms.IntegerField(min_value=1, label="Days on")
    days_off = forms.IntegerField(min_value=0, label="Days off")
    note = forms.CharField(max_length=300, required=False)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
