"""JSON API: patients (with identifiers), their care teams and their consents.

Every patient-linked read goes through ``access_patient`` or the actor-scoped selectors, so a patient
the caller may not see answers exactly like one that does not exist (404).  Lists audit every
patient they disclose (channel "api").
"""

from __future__ import annotations

import dataclasses

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from oncoliaison.apiauth import CHANNEL, actor_of, expected_version, organization_pk, page_of
from oncoliaison.core import audit
from oncoliaison.core.access import get_visible_or_404, require_scope
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import BadRequest
from oncoliaison.core.models import AuditAction
from oncoliaison.core.schemas import CREATE_ERRORS, READ_ERRORS, WRITE_ERRORS, Id
from oncoliaison.core.versions import etag

from . import selectors, services
from .models import CareTeam, Consent, Patient, PatientIdentifier
from .schemas import (
    CareTeamIn,
    CareTeamOut,
    CareTeamPatch,
    ConsentIn,
    ConsentOut,
    ConsentPatch,
    IdentifierIn,
    PatientIn,
    PatientListPage,
    PatientOut,
    PatientPage,
    PatientPatch,
    PatientSearch,
)

router = Router(tags=["patients"])

_IDENTIFIERS = Prefetch("identifiers", queryset=PatientIdentifier.objects.select_related("organization").order_by("id"))


# --- translation helpers --------------------------------------------------------------------------


def _identifiers(items: list[IdentifierIn]) -> list[services.IdentifierData]:
    return [
        services.IdentifierData(
            system=i.system, value=i.value, type_code=str(i.type_code),
            organization_id=organization_pk(i.organization, "identifiers.organization"),
        )
        for i in items
    ]


def _patient_out(actor: Actor, patient_id: Id) -> Patient:
    """A patient just written, reloaded for the answer (the write itself is audited)."""
    return (
        selectors.patient_queryset_for(actor).select_related("organization").prefetch_related(_IDENTIFIERS)
        .get(pk=patient_id)
    )


def _patient_data(patient: Patient) -> services.PatientData:
    names = [f.name for f in dataclasses.fields(services.PatientData) if f.name not in {"identifiers"}]
    return services.PatientData(**{name: getattr(patient, name) for name in names})


# --- patients -------------------------------------------------------------------------------------


def _search(request: HttpRequest, terms: PatientSearch) -> dict[str, object]:
    actor = actor_of(request)
    require_scope(actor, "Patient", "s")
    qs = selectors.patient_search_for(
        actor, text=terms.q, birth_date=terms.birth_date, identifier=terms.identifier
    ).prefetch_related(_IDENTIFIERS)
    items, meta = page_of(qs.order_by("family_name", "given_name", "id"), page=terms.page, page_size=terms.page_size)
    audit.log_patients_read(
        actor, [p.pk for p in items], category="demographics", resource_type="Patient",
        action=AuditAction.SEARCH, channel=CHANNEL,
    )
    return {**meta, "items": items}


_SEARCH_TERMS = frozenset(PatientSearch.model_fields) - frozenset(PatientListPage.model_fields)


@router.get("/patients", response={200: PatientPage, **READ_ERRORS})
def patient_list(request: HttpRequest, listing: Query[PatientListPage]) -> dict[str, object]:
    """Patients the caller may see, paginated.  Every patient on the page is recorded in the audit log.

    To search by name, birth date or identifier use ``POST /patients/search``: search terms in a query
    string are refused (400), because URLs end up in server, proxy and browser logs."""
    sent = sorted(_SEARCH_TERMS & set(request.GET))
    if sent:
        raise BadRequest(f"Search terms ({', '.join(sent)}) are not taken in the URL, where they would be "
                         "logged: send them in the body of POST /api/patients/search.")
    return _search(request, PatientSearch(q="", identifier="", page=listing.page, page_size=listing.page_size))


@router.post("/patients/search", response={200: PatientPage, **READ_ERRORS})
def patient_search(request: HttpRequest, terms: PatientSearch) -> dict[str, object]:
    """The same search with the terms in the body (keeps names and MRNs out of URLs and logs)."""
    return _search(request, terms)


@router.post("/patients", response={201: PatientOut, **CREATE_ERRORS})
def patient_create(request: HttpRequest, payload: PatientIn, response: HttpResponse) -> Status[Patient]:
    """Register a patient at an organisation where the caller has a care role."""
    actor = actor_of(request)
    fields = payload.dict(exclude={"organization", "identifiers"})
    data = services.PatientData(
        **fields,
        organization_id=organization_pk(payload.organization, "organization"),
        identifiers=_identifiers(payload.identifiers),
    )
    patient = services.patient_create(actor=actor, data=data, channel=CHANNEL)
    response["ETag"] = etag(patient.version)
    return Status(201, _patient_out(actor, patient.pk))


@router.get("/patients/{id:patient_id}", response={200: PatientOut, **READ_ERRORS})
def patient_get(request: HttpRequest, patient_id: Id, response: HttpResponse) -> Patient:
    actor = actor_of(request)
    require_scope(actor, "Patient", "r")
    patient = selectors.access_patient(actor, patient_id, channel=CHANNEL)
    response["ETag"] = etag(patient.version)
    return patient


@router.patch("/patients/{id:patient_id}", response={200: PatientOut, **WRITE_ERRORS})
def patient_update(request: HttpRequest, patient_id: Id, payload: PatientPatch, response: HttpResponse) -> Patient:
    """Change registration details.  Send the version you read (``If-Match`` or ``version``): a
    stale version is refused with 412 and nothing changes."""
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, channel=CHANNEL, audit_read=False)
    version = expected_version(request, payload.version)
    changes = payload.dict(exclude_unset=True, exclude={"version", "identifiers"})
    data = dataclasses.replace(_patient_data(patient), **changes)
    if payload.identifiers is not None:
        data.identifiers = _identifiers(payload.identifiers)
    patient = services.patient_update(
        actor=actor, patient=patient, data=data, expected_version=version, channel=CHANNEL
    )
    response["ETag"] = etag(patient.version)
    return _patient_out(actor, patient.pk)


# --- care teams -----------------------------------------------------------------------------------


def _care_teams(actor: Actor, patient: Patient) -> QuerySet[CareTeam]:
    return (
        selectors.care_team_queryset_for(actor).filter(patient=patient).select_related("organization")
        .prefetch_related("participants__user").order_by("id")
    )


def _participants(payload: CareTeamIn | CareTeamPatch) -> list[services.ParticipantData]:
    return [services.ParticipantData(**p.dict()) for p in payload.participants or []]


@router.get("/patients/{id:patient_id}/care-teams", response={200: list[CareTeamOut], **READ_ERRORS})
def care_team_list(request: HttpRequest, patient_id: Id) -> list[CareTeam]:
    actor = actor_of(request)
    require_scope(actor, "CareTeam", "s")
    patient = selectors.access_patient(actor, patient_id, category=selectors.CARE_TEAM_CATEGORY, channel=CHANNEL,
                                       audit_read=False)
    return selectors.care_teams_of(actor, patient, channel=CHANNEL)


@router.post("/patients/{id:patient_id}/care-teams", response={201: CareTeamOut, **CREATE_ERRORS})
def care_team_create(request: HttpRequest, patient_id: Id, payload: CareTeamIn,
                     response: HttpResponse) -> Status[CareTeam]:
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, category="care_team", channel=CHANNEL, audit_read=False)
    data = services.CareTeamData(name=payload.name, status=payload.status, participants=_participants(payload),
                                 urgent_phone=payload.urgent_phone, office_phone=payload.office_phone)
    team = services.care_team_create(actor=actor, patient=patient, data=data, channel=CHANNEL)
    response["ETag"] = etag(team.version)
    return Status(201, _care_teams(actor, patient).get(pk=team.pk))


@router.patch(
    "/patients/{id:patient_id}/care-teams/{id:team_id}", response={200: CareTeamOut, **WRITE_ERRORS}
)
def care_team_update(
    request: HttpRequest, patient_id: Id, team_id: Id, payload: CareTeamPatch, response: HttpResponse
) -> CareTeam:
    """Rename, change status or replace the participants (``participants`` sent = the whole list)."""
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, category="care_team", channel=CHANNEL, audit_read=False)
    team = get_visible_or_404(_care_teams(actor, patient), team_id)
    version = expected_version(request, payload.version)
    data = services.CareTeamData(
        name=payload.name if payload.name is not None else team.name,
        status=payload.status if payload.status is not None else team.status,
        participants=(
            _participants(payload) if payload.participants is not None else [
                services.ParticipantData(user_id=p.user_id, role=p.role, role_code=p.role_code, start=p.start,
                                         end=p.end)
                for p in team.participants.all()
            ]
        ),
        urgent_phone=payload.urgent_phone, office_phone=payload.office_phone,
    )
    team = services.care_team_update(actor=actor, team=team, data=data, expected_version=version, channel=CHANNEL)
    response["ETag"] = etag(team.version)
    return _care_teams(actor, patient).get(pk=team.pk)


# --- consents -------------------------------------------------------------------------------------


def _consents(actor: Actor, patient: Patient) -> QuerySet[Consent]:
    return (
        selectors.consent_queryset_for(actor).filter(patient=patient)
        .select_related("organization", "grantee_organization", "patient").order_by("id")
    )


def _consent_data(consent: Consent) -> services.ConsentData:
    return services.ConsentData(
        kind=consent.kind, status=consent.status, grantee_organization_id=consent.grantee_organization_id,
        grantee_user_id=consent.grantee_user_id, proxy_scope=consent.proxy_scope,
        period_start=consent.period_start, period_end=consent.period_end, note=consent.note,
    )


@router.get("/patients/{id:patient_id}/consents", response={200: list[ConsentOut], **READ_ERRORS})
def consent_list(request: HttpRequest, patient_id: Id) -> list[Consent]:
    actor = actor_of(request)
    require_scope(actor, "Consent", "s")
    patient = selectors.access_patient(actor, patient_id, category=selectors.CONSENT_CATEGORY, channel=CHANNEL,
                                       audit_read=False)
    return selectors.consents_of(actor, patient, channel=CHANNEL)


@router.post("/patients/{id:patient_id}/consents", response={201: ConsentOut, **CREATE_ERRORS})
def consent_create(request: HttpRequest, patient_id: Id, payload: ConsentIn,
                   response: HttpResponse) -> Status[Consent]:
    """Record a consent: treatment, data sharing with an organisation, caregiver proxy or research."""
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, category="consent", channel=CHANNEL, audit_read=False)
    data = services.ConsentData(
        kind=payload.kind, status=payload.status,
        grantee_organization_id=organization_pk(payload.grantee_organization, "grantee_organization"),
        grantee_user_id=payload.grantee_user_id, proxy_scope=payload.proxy_scope or "",
        period_start=payload.period_start, period_end=payload.period_end, note=payload.note,
    )
    consent = services.consent_create(actor=actor, patient=patient, data=data, channel=CHANNEL)
    response["ETag"] = etag(consent.version)
    return Status(201, _consents(actor, patient).get(pk=consent.pk))


@router.patch(
    "/patients/{id:patient_id}/consents/{id:consent_id}", response={200: ConsentOut, **WRITE_ERRORS}
)
def consent_update(
    request: HttpRequest, patient_id: Id, consent_id: Id, payload: ConsentPatch, response: HttpResponse
) -> Consent:
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, category="consent", channel=CHANNEL, audit_read=False)
    consent = get_visible_or_404(_consents(actor, patient), consent_id)
    version = expected_version(request, payload.version)
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    if "grantee_organization" in changes:
        changes["grantee_organization_id"] = organization_pk(changes.pop("grantee_organization"),
                                                              "grantee_organization")
    if "proxy_scope" in changes:
        changes["proxy_scope"] = changes["proxy_scope"] or ""
    data = dataclasses.replace(_consent_data(consent), **changes)
    consent = services.consent_update(
        actor=actor, consent=consent, data=data, expected_version=version, channel=CHANNEL
    )
    response["ETag"] = etag(consent.version)
    return _consents(actor, patient).filter(pk=consent.pk).first() or consent


@router.post(
    "/patients/{id:patient_id}/consents/{id:consent_id}/revoke", response={200: ConsentOut, **WRITE_ERRORS}
)
def consent_revoke(request: HttpRequest, patient_id: Id, consent_id: Id, response: HttpResponse) -> Consent:
    """Withdraw a consent: it becomes inactive from today."""
    actor = actor_of(request)
    patient = selectors.access_patient(actor, patient_id, category="consent", channel=CHANNEL, audit_read=False)
    consent = get_visible_or_404(_consents(actor, patient), consent_id)
    consent = services.consent_revoke(actor=actor, consent=consent, channel=CHANNEL)
    response["ETag"] = etag(consent.version)
    # After revoking, the consent may no longer be the caller's to see (e.g. the last sharing consent).
    return _consents(actor, patient).filter(pk=consent.pk).first() or consent
