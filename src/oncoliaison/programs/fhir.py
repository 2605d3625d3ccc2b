"""FHIR R4 EpisodeOfCare: a patient's enrollment in the Cancer Liaison Program (read, search).

===================  =====================================================================================
ProgramEpisode       EpisodeOfCare
===================  =====================================================================================
status               status (planned, active, onhold, finished, cancelled: the same codes)
(the program)        type: cancer-liaison-program in the OncoLiaison episode-type code system
patient              patient: Patient/<id>
organization         managingOrganization: Organization/<id>
period               period (dates)
referral             referralRequest: ServiceRequest/<id>
navigator            careManager: Practitioner/<id>
CLP                  extension cancer-liaison-physician (valueReference Practitioner/<id>)
care team            team: CareTeam/<id>
===================  =====================================================================================
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import READ, SEARCH, ResourceMapper, SearchParam, register
from oncoliaison.patients.selectors import require_patient_access_role

from . import selectors
from .models import EpisodeStatus, ProgramEpisode

CS_EPISODE_TYPE = f"{codes.CODE_BASE}/CodeSystem/episode-type"
EXT_CLP = f"{codes.CODE_BASE}/StructureDefinition/cancer-liaison-physician"
PROGRAM_TYPE = codes.coding(CS_EPISODE_TYPE, "cancer-liaison-program", "Cancer Liaison Program")
_SP = "http://hl7.org/fhir/SearchParameter/"


@register
class EpisodeOfCareMapper(ResourceMapper):
    resource_type = "EpisodeOfCare"
    model = ProgramEpisode
    interactions = (READ, SEARCH)
    patient_linked = True
    audit_category = "program_episode"
    documentation = "Enrollments in the Cancer Liaison Program: navigator, CLP, care team and referral."
    search_params = (
        SearchParam("patient", "reference", "The enrolled patient.", params.reference_filter("patient_id", "Patient"),
                    _SP + "clinical-patient"),
        SearchParam("status", "token", "planned, active, onhold, finished or cancelled.",
                    params.code_filter("status", "http://hl7.org/fhir/episode-of-care-status", EpisodeStatus.values),
                    _SP + "EpisodeOfCare-status"),
        SearchParam("organization", "reference", "The program (managing organisation).",
                    params.reference_filter("organization_id", "Organization"), _SP + "EpisodeOfCare-organization"),
        SearchParam("care-manager", "reference", "The nurse navigator.",
                    params.reference_filter("navigator_id", "Practitioner"), _SP + "EpisodeOfCare-care-manager"),
        SearchParam("incoming-referral", "reference", "The referral that led to the enrollment.",
                    params.reference_filter("referral_id", "ServiceRequest"),
                    _SP + "EpisodeOfCare-incoming-referral"),
        SearchParam("date", "date", "Start of the episode; prefixes eq, ne, lt, gt, le, ge.",
                    params.date_filter("period_start"), _SP + "clinical-date"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        require_patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[ProgramEpisode]:
        return selectors.episode_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.select_related("organization", "navigator", "clp")

    def to_fhir(self, e: ProgramEpisode) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "EpisodeOfCare",
            "id": str(e.pk),
            "meta": codes.meta(e.version, e.updated_at),
            "extension": [{"url": EXT_CLP, "valueReference": {**codes.ref("Practitioner", e.clp_id),
                                                               "display": e.clp.display_name}}],
            "status": e.status,
            "type": [{"coding": [PROGRAM_TYPE]}],
            "patient": codes.ref("Patient", e.patient_id),
            "managingOrganization": {**codes.ref("Organization", e.organization_id), "display": e.organization.name},
        }
        period = {"start": e.period_start.isoformat()}
        if e.period_end:
            period["end"] = e.period_end.isoformat()
        out["period"] = period
        if e.referral_id:
            out["referralRequest"] = [codes.ref("ServiceRequest", e.referral_id)]
        out["careManager"] = {**codes.ref("Practitioner", e.navigator_id), "display": e.navigator.display_name}
        if e.care_team_id:
            out["team"] = [codes.ref("CareTeam", e.care_team_id)]
        return out
