"""JSON shapes of treatment adherence: dispenses and the PDC per drug and year with its basis."""

from __future__ import annotations

from decimal import Decimal

from ninja import Field, Schema

from oncoliaison.core.schemas import Count, Date, DateTime, Int

MAX_INT = 2_147_483_647  # the column's range


class DispenseIn(Schema):
    medication_code: str = Field(..., pattern=r"^\s*\d{1,12}\s*$", description="RxNorm code.", examples=["194000"])
    medication_display: str = Field(..., min_length=1, max_length=200, pattern=r"\S",
                                    examples=["capecitabine"])
    dispensed_on: Date
    days_supply: Int = Field(..., ge=1, le=MAX_INT, description="Days' supply as dispensed; for a cyclic regimen, "
                                                               "dosing days.")
    quantity: float | None = Field(None, ge=0.01, lt=10_000_000, description="Two decimals are kept.")
    quantity_unit: str = Field("", max_length=30)
    source_system: str = Field("", max_length=200, description="With source_id: a re-sent fill is the same one.")
    source_id: str = Field("", max_length=200)


class DispenseOut(Schema):
    id: Int
    patient_id: Int
    medication_code: str
    medication_display: str
    dispensed_on: Date
    days_supply: Int
    quantity: Decimal | None
    quantity_unit: str
    status: str
    regimen_id: Int | None
    source_system: str
    source_id: str
    version: Int
    created_at: DateTime


class PdcOut(Schema):
    """PDC (PQA method) and MPR of one drug over one calendar year (the current year: to date)."""

    medication_code: str
    medication_display: str
    year: Int
    period_start: Date
    period_end: Date
    index_date: Date | None = Field(None, description="The first fill in the period.")
    fill_dates: Count = Field(..., description="Distinct dates of service in the period.")
    in_denominator: bool = Field(..., description="Fills on at least two different dates (PQA).")
    covered_days: Count
    denominator_days: Count = Field(..., description="Days (dosing days, with a cyclic regimen) from the index date "
                                                     "to the period end.")
    supply_days: Count
    pdc: Decimal | None = Field(None, description="0 to 1.")
    mpr: Decimal | None = Field(None, description="May exceed 1.")
    adherent: bool | None = Field(None, description="PDC at least 0.80; null when not in the denominator.")
    cyclic: bool
    follow_up_task_id: Int | None
    updated_at: DateTime
