"""The cancer record's tables as an import sees them: which table holds each kind of record, the order they
are written in, and the rows already imported from a source system."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Model

from .models import (
    CancerCondition,
    CancerStage,
    ClinicalObservation,
    DiseaseStatus,
    GenomicVariant,
    Medication,
    PerformanceStatus,
    Procedure,
)

MODELS: dict[str, type[Model]] = {
    "condition": CancerCondition,
    "stage": CancerStage,
    "observation": ClinicalObservation,
    "genomic_variant": GenomicVariant,
    "procedure": Procedure,
    "medication": Medication,
    "performance": PerformanceStatus,
    "disease_status": DiseaseStatus,
}
# Conditions first: the other records point at them.
WRITE_ORDER = ("condition", "stage", "observation", "genomic_variant", "procedure", "medication", "performance",
               "disease_status")
HAS_CONDITION = frozenset({"stage", "observation", "genomic_variant", "procedure", "medication", "disease_status"})
CHUNK = 500  # rows per statement


def imported_rows(model: type[Model], source_system: str, source_ids: list[str]) -> dict[str, tuple[int, str, int]]:
    """source_id → (pk, content_hash, patient_id) of rows already imported from this source.

    Plain parameterised SQL: the ORM's per-value handling of large IN lists cost more than the query.  On
    PostgreSQL the ids go as one array (``= ANY(%s)``), so the statement text never changes and the driver
    converts it once; an IN list of placeholders is re-tokenised on every call, in Python.
    """
    found: dict[str, tuple[int, str, int]] = {}
    if not source_ids:
        return found
    qn = connection.ops.quote_name
    select = (f"SELECT source_id, id, content_hash, patient_id FROM {qn(model._meta.db_table)} "  # noqa: S608
              "WHERE source_system = %s AND source_id ")  # table from the model's metadata
    queries: list[tuple[str, list[Any]]]
    if connection.vendor == "postgresql":
        queries = [(select + "= ANY(%s)", [source_system, list(source_ids)])]
    else:
        queries = [(select + f"IN ({', '.join(['%s'] * len(chunk))})", [source_system, *chunk])
                   for chunk in (source_ids[n:n + CHUNK] for n in range(0, len(source_ids), CHUNK))]
    with connection.cursor() as cursor:
        for sql, params in queries:
            cursor.execute(sql, params)
            for sid, pk, digest, pid in cursor.fetchall():
                found[sid] = (pk, digest, pid)
    return found
