"""Code systems, codes (each with its published source) and small builders shared by the tumor-board mappers."""

from __future__ import annotations

import html
from typing import Any

from oncoliaison.accounts.models import User
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Forbidden
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import ResourceMapper, SearchParam
from oncoliaison.patients.selectors import require_patient_access_role

from .. import selectors
from ..models import RecommendationKind

SP = "http://hl7.org/fhir/SearchParameter/"

# Our own code systems (stable URIs under the project's canonical base).
CS_BOARD_SERVICE = f"{codes.CODE_BASE}/CodeSystem/tumor-board-service"
CS_BOARD_SECTION = f"{codes.CODE_BASE}/CodeSystem/tumor-board-section"
CS_RECOMMENDATION_KIND = f"{codes.CODE_BASE}/CodeSystem/tumor-board-recommendation-kind"
# The meeting's video link (R4 Appointment has no virtualService; that element is R5): valueUrl, present only
# in what is shown to a person invited to the meeting (or its coordinator).
EXT_VIDEO_LINK = f"{codes.CODE_BASE}/StructureDefinition/appointment-video-link"

# LOINC 85232-7 "Tumor board Consult note" (LOINC, Document Ontology: method "Tumor board"; used as the
# tumor-board category of recommendations by German oncology FHIR guides).  Not 85208-7, which is a
# telehealth consult note.
TUMOR_BOARD_NOTE = codes.coding(codes.CS_LOINC, "85232-7", "Tumor board Consult note")
# SNOMED CT 394592004 "Clinical oncology": FHIR R4 value set c80-practice-codes (practice setting / specialty).
CLINICAL_ONCOLOGY = codes.coding(codes.CS_SNOMED, "394592004", "Clinical oncology")
CS_PARTICIPANT_TYPE = codes.CS_V3_PARTICIPATION  # FHIR R4 encounter-participant-type draws on v3 ParticipationType

# The SNOMED CT procedure each recommendation kind asks for, where a published source gives one:
# - 387713003 Surgical procedure: SNOMED CT; the mCODE cancer-related surgical procedure category.
# - 1287742003 Radiotherapy: SNOMED CT International edition 2025-02, as expanded in the Onconova tumor-board
#   recommendations value set (onconova.github.io/fhir, ValueSet onconova-vs-tumor-board-recommendations).
# - 709491003 Enrollment in clinical trial: the German Medical Informatics Initiative molecular tumor board
#   module, profile MII_PR_MTB_Studieneinschluss_Anfrage (ServiceRequest.code).
# - 390906007 Follow-up encounter: the Onconova value set above ("continue with follow-up").
# The other kinds carry our own code and the text only (no code is invented for them).
SNOMED_FOR_KIND: dict[str, tuple[str, str]] = {
    RecommendationKind.SURGERY: ("387713003", "Surgical procedure"),
    RecommendationKind.RADIATION: ("1287742003", "Radiotherapy"),
    RecommendationKind.TRIAL: ("709491003", "Enrollment in clinical trial"),
    RecommendationKind.SURVEILLANCE: ("390906007", "Follow-up encounter"),
}

RECOMMENDATION_PREFIX = "tbr"


def recommendation_fid(pk: int) -> str:
    """The FHIR id of a board recommendation's ServiceRequest (Referral ServiceRequests keep plain ids)."""
    return f"{RECOMMENDATION_PREFIX}-{pk}"


def practitioner(user: User) -> dict[str, str]:
    return {**codes.ref("Practitioner", user.pk), "display": user.display_name}


def narrative(*paragraphs: str) -> dict[str, str]:
    """A generated Narrative of plain-text paragraphs (escaped)."""
    body = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs if p) or "<p>(none)</p>"
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def section(code: str, title: str, *paragraphs: str, entries: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"title": title, "code": {"coding": [codes.coding(CS_BOARD_SECTION, code, title)]},
                           "text": narrative(*paragraphs)}
    if entries:
        out["entry"] = entries
    return out


def patient_params(resource_type: str) -> tuple[SearchParam, SearchParam]:
    """``patient`` and ``subject`` (Patient references only) over the row's patient."""
    by_patient = params.reference_filter("patient_id", "Patient")
    return (SearchParam("patient", "reference", "The patient.", by_patient, SP + "clinical-patient"),
            SearchParam("subject", "reference", "The patient (Patient references only).", by_patient,
                        f"{SP}{resource_type}-subject"))


class PatientLinked(ResourceMapper):
    """The board's conclusions about a patient: for staff with a patient-care role and systems (not the program
    administrator, not patients).  The rows' ``patient_id`` and ``updated_at`` are the registry's defaults for
    ``patient_field`` and ``updated_field`` ($everything, bulk export and ``_since``)."""

    patient_linked = True
    audit_category = selectors.CATEGORY

    def check_access(self, actor: Actor, interaction: str) -> None:
        if actor.kind not in {"staff", "system"}:  # patients read the summary the navigator released, in the portal
            raise Forbidden(f"Your role does not give access to the tumor board's {self.resource_type} resources.")
        require_patient_access_role(actor)
