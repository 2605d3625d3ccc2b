"""The cancer record's door on the FHIR API.

- ``POST /fhir`` with a transaction or batch Bundle imports into the cancer record (``bundle_post``);
- read and search mappers (registered with oncoliaison.fhir.registry) render the stored record as mCODE
  STU4 / US Core resources with ``meta.profile`` set:

==========================  =======================  ==============================================
Stored row                  Resource (id)            Profile
==========================  =======================  ==============================================
CancerCondition             Condition (pk)           mcode-primary-cancer-condition,
                                                     mcode-secondary-cancer-condition, or US Core
                                                     condition-problems-health-concerns
ClinicalObservation         Observation (pk)         mcode-tumor-marker-test, mcode-comorbidities,
                                                     mcode-tumor-size, US Core lab, vital signs, …
CancerStage                 Observation (stage-pk)   mcode-tnm-*-category, mcode-tnm-stage-group,
                                                     mcode-cancer-stage
GenomicVariant              Observation (variant-pk) Genomics Reporting variant (mCODE STU4)
PerformanceStatus           Observation (perf-pk)    mcode-ecog- / mcode-karnofsky-performance-status
DiseaseStatus               Observation (dstatus-pk) mcode-cancer-disease-status
Procedure                   Procedure (pk)           mcode-cancer-related-surgical-procedure,
                                                     mcode-radiotherapy-course-summary, US Core
Medication (request)        MedicationRequest (pk)   mcode-cancer-related-medication-request
Medication (administration) MedicationAdministration mcode-cancer-related-medication-administration
==========================  =======================  ==============================================

Read and search only: these records are written through the Bundle import.  Every resource is linked to
a patient, so reads and searches are audited per patient and scoped through patients.selectors (a
partner's token sees a patient only under an active data-sharing consent).  ``to_fhir`` builds plain
dicts (no fhir.resources objects): the same dicts feed $everything and Bulk Data NDJSON.

The package: ``common`` (profiles, builders, the shared mapper), ``conditions``, ``observations``,
``treatments`` (Procedure and medications) and ``bundles`` (the import handler).
"""

from __future__ import annotations

# Importing the modules registers their mappers and the Bundle handler (oncoliaison.fhir.registry).
from . import bundles, conditions, observations, treatments
from .common import CancerRecordMapper
from .conditions import ConditionMapper
from .observations import (
    ClinicalObservationMapper,
    DiseaseStatusObservationMapper,
    PerformanceObservationMapper,
    StageObservationMapper,
    VariantObservationMapper,
)
from .treatments import MedicationAdministrationMapper, MedicationRequestMapper, ProcedureMapper

__all__ = ["RECORD_MAPPERS", "bundles", "conditions", "observations", "treatments"]

# Every mapper of the cancer record, one per stored table.
RECORD_MAPPERS: tuple[CancerRecordMapper, ...] = (
    ConditionMapper(), ClinicalObservationMapper(), StageObservationMapper(), VariantObservationMapper(),
    PerformanceObservationMapper(), DiseaseStatusObservationMapper(), ProcedureMapper(), MedicationRequestMapper(),
    MedicationAdministrationMapper(),
)
