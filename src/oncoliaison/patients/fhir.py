"""FHIR R4 mappers for patients, care teams and consents (registered with oncoliaison.fhir.registry).

Consent mapping (the ``kind`` of an OncoLiaison consent is carried in ``category`` with our code system,
next to LOINC 59284-0 "Patient Consent"):

==================  =====================  ==========================================================
kind                Consent.scope          Consent.provision
==================  =====================  ==========================================================
treatment           treatment              type=permit
data_sharing        patient-privacy        type=permit; actor: role IRCP (information recipient) ->
                                           Organization/<grantee>
caregiver_proxy     patient-privacy        type=permit; actor: role IRCP -> the caregiver's account as a
                                           logical RelatedPerson reference (identifier in the OncoLiaison
                                           user id system); action: consentaction "access" plus the proxy
                                           scope (view | report | message) in our proxy-scope code system
research            research               type=permit
==================  =====================  ==========================================================

``status`` maps 1:1 (draft, proposed, active, rejected, inactive, entered-in-error);
``policyRule`` is v3-ActCode OPTIN; ``organization`` is the custodian that recorded the consent;
``provision.period`` is the consent's period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound, ValidationFailed
from oncoliaison.core.ids import parse_id
from oncoliaison.fhir import codes, params
from oncoliaison.fhir.registry import (
    ResourceMapper,
    SearchParam,
    first_address,
    human_name,
    parse_date,
    reference_to,
    register,
    telecom_values,
)
from oncoliaison.organisations.models import Organization

from . import models, selectors, services

_SP = "http://hl7.org/fhir/SearchParameter/"


def _patient_access_role(actor: Actor) -> None:
    selectors.require_patient_access_role(actor)


def _patient_for_write(actor: Actor, patient_id: int | None, field: str) -> models.Patient:
    """The referenced patient, if visible; a reference that cannot be resolved is a 422 (same message
    for "missing" and "not yours")."""
    if patient_id is None:
        raise ValidationFailed(f"{field} must reference the Patient.", field_errors={field: ["Required."]})
    try:
        return selectors.access_patient(actor, patient_id, channel="fhir", audit_read=False)
    except NotFound:
        raise ValidationFailed(f"{field} does not reference a Patient known to you.",
                               field_errors={field: ["Unknown Patient."]}) from None


# ===================================== Patient ============================================================


def _identifier_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    idents = models.PatientIdentifier.objects.filter(value=code)
    if system is not None:  # "|value" asks for identifiers without a system: every MRN here has one
        idents = idents.filter(system=system)
    return Q(pk__in=idents.values("patient_id"))


@register
class PatientMapper(ResourceMapper):
    resource_type = "Patient"
    model = models.Patient
    patient_linked = True
    audit_category = "demographics"
    documentation = "Patients the caller may see: of their organisations, or shared with them by consent."
    search_params = (
        SearchParam("identifier", "token", "A patient identifier: system|value, or value.", _identifier_q,
                    _SP + "Patient-identifier"),
        SearchParam("name", "string", "Start of any word of the given or family name (case-insensitive).",
                    params.words_filter(("family_name_search", "given_name_search")), _SP + "Patient-name"),
        SearchParam("family", "string", "Start of the family name (case-insensitive).",
                    params.words_filter(("family_name_search",)), _SP + "individual-family"),
        SearchParam("given", "string", "Start of the given name (case-insensitive).",
                    params.words_filter(("given_name_search",)), _SP + "individual-given"),
        SearchParam("birthdate", "date", "Date of birth; prefixes eq, ne, lt, gt, le, ge.",
                    params.date_filter("birth_date"), _SP + "individual-birthdate"),
        SearchParam("gender", "token", "Administrative gender.",
                    params.code_filter("gender", "http://hl7.org/fhir/administrative-gender",
                                       models.AdministrativeGender.values), _SP + "individual-gender"),
        SearchParam("organization", "reference", "The managing organisation.",
                    params.reference_filter("organization_id", "Organization"), _SP + "Patient-organization"),
        SearchParam("active", "token", "Whether the record is in active use.", params.boolean_filter("active"),
                    _SP + "Patient-active"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[models.Patient]:
        return selectors.patient_queryset_for(actor)

    _identifiers = Prefetch("identifiers", queryset=models.PatientIdentifier.objects.order_by("id"))

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.prefetch_related(self._identifiers)

    def read(self, actor: Actor, pk: str) -> models.Patient:
        # The shared guard: NotFound (and a denied audit row) for missing and not visible alike.
        patient = selectors.access_patient(actor, pk, channel="fhir", audit_read=False)
        prefetch_related_objects([patient], self._identifiers)
        return patient

    patient_field = "pk"

    def patient_id_of(self, obj: Any) -> int | None:
        return int(obj.pk)

    def to_fhir(self, p: models.Patient) -> dict[str, Any]:
        out: dict[str, Any] = {
            "resourceType": "Patient",
            "id": str(p.pk),
            "meta": codes.meta(p.version, p.updated_at, synthetic=p.synthetic),
        }
        idents = []
        for i in p.identifiers.all():
            ident: dict[str, Any] = {}
            if i.type_code:
                ident["type"] = {"coding": [codes.coding(codes.CS_V2_0203, i.type_code,
                                                         models.IdentifierType(i.type_code).label)]}
            ident["system"] = i.system
            ident["value"] = i.value
            if i.organization_id:
                ident["assigner"] = codes.ref("Organization", i.organization_id)
            idents.append(ident)
        if idents:
            out["identifier"] = idents
        out["active"] = p.active
        out["name"] = [{"use": "official", "family": p.family_name, "given": p.given_name.split() or [p.given_name]}]
        if tel := codes.telecom(p.phone, p.email):
            out["telecom"] = [dict(t, use="home") if t["system"] == "phone" else t for t in tel]
        out["gender"] = p.gender
        out["birthDate"] = p.birth_date.isoformat()
        out["deceasedBoolean"] = p.deceased
        if addr := codes.address(p.address_line, p.city, p.state, p.postal_code, p.country):
            out["address"] = addr
        if p.preferred_language:
            out["communication"] = [{"language": {"coding": [codes.coding(codes.CS_BCP47, p.preferred_language)]},
                                     "preferred": True}]
        out["managingOrganization"] = codes.ref("Organization", p.organization_id)
        if p.interpreter_needed:
            out["extension"] = [{"url": codes.EXT_INTERPRETER_REQUIRED, "valueBoolean": True}]
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> services.PatientData:
        given, family = human_name(resource)
        phone, email = telecom_values(resource)
        org_id = reference_to(resource.get("managingOrganization"), "Organization", "managingOrganization")
        if current is not None and org_id is not None and org_id != current.organization_id:
            raise ValidationFailed("The managing organisation cannot be changed by an update.",
                                   field_errors={"managingOrganization": ["Cannot change."]})
        language = "en"
        for comm in resource.get("communication") or []:
            found = codes.codes_in(comm.get("language"), codes.CS_BCP47)
            if found and (comm.get("preferred") or language == "en"):
                language = found[0]
                if comm.get("preferred"):
                    break
        deceased = True if resource.get("deceasedDateTime") else bool(resource.get("deceasedBoolean", False))
        interpreter = any(
            e.get("url") == codes.EXT_INTERPRETER_REQUIRED and e.get("valueBoolean") is True
            for e in resource.get("extension") or []
        )
        tags = (resource.get("meta") or {}).get("tag") or []
        synthetic = any(t.get("system") == codes.CS_V3_ACT_REASON and t.get("code") == "HTEST" for t in tags)
        return services.PatientData(
            given_name=given,
            family_name=family,
            birth_date=parse_date(resource.get("birthDate"), "birthDate"),
            gender=str(resource.get("gender") or ""),
            organization_id=org_id if current is None else current.organization_id,
            phone=phone,
            email=email,
            **first_address(resource),
            preferred_language=language,
            interpreter_needed=interpreter,
            active=bool(resource.get("active", True)),
            deceased=deceased,
            synthetic=synthetic if current is None else current.synthetic,
            identifiers=[self._identifier(i, n) for n, i in enumerate(resource.get("identifier") or [])],
        )

    @staticmethod
    def _identifier(ident: dict[str, Any], n: int) -> services.IdentifierData:
        field = f"identifier[{n}]"
        type_codes = codes.codes_in(ident.get("type"), codes.CS_V2_0203)
        type_code = type_codes[0] if type_codes and type_codes[0] in models.IdentifierType.values else ""
        assigner = reference_to(ident.get("assigner"), "Organization", f"{field}.assigner")
        system = str(ident.get("system") or "")
        if assigner is None and type_code == "MR" and system:
            assigner = Organization.objects.filter(mrn_system=system).values_list("pk", flat=True).first()
        elif assigner is not None and not Organization.objects.filter(pk=assigner).exists():
            raise ValidationFailed(f"{field}.assigner is not a known Organization.",
                                   field_errors={f"{field}.assigner": ["Unknown Organization."]})
        return services.IdentifierData(system=system, value=str(ident.get("value") or ""), type_code=type_code,
                                       organization_id=assigner)

    def create(self, *, actor: Actor, data: services.PatientData) -> models.Patient:
        return services.patient_create(actor=actor, data=data, channel="fhir")

    def update(self, *, actor: Actor, obj: models.Patient, data: services.PatientData,
               expected_version: int | None) -> models.Patient:
        return services.patient_update(actor=actor, patient=obj, data=data, expected_version=expected_version,
                                       channel="fhir")


# ===================================== CareTeam ===========================================================


@dataclass
class CareTeamInput:
    patient_id: int | None
    data: services.CareTeamData


def _participant_q(name: str, value: str) -> Q:
    user_id = params.reference_id(name, value, "Practitioner")
    return Q(pk__in=models.CareTeamParticipant.objects.filter(user_id=user_id).values("care_team_id"))


@register
class CareTeamMapper(ResourceMapper):
    resource_type = "CareTeam"
    model = models.CareTeam
    patient_linked = True
    audit_category = selectors.CARE_TEAM_CATEGORY
    documentation = "Care teams of patients the caller may see; participants are Practitioners."
    search_params = (
        SearchParam("patient", "reference", "The patient the team cares for.",
                    params.reference_filter("patient_id", "Patient"), _SP + "clinical-patient"),
        SearchParam("subject", "reference", "The patient the team cares for.",
                    params.reference_filter("patient_id", "Patient"), _SP + "CareTeam-subject"),
        SearchParam("status", "token", "proposed | active | suspended | inactive",
                    params.code_filter("status", "http://hl7.org/fhir/care-team-status", models.CareTeamStatus.values),
                    _SP + "CareTeam-status"),
        SearchParam("participant", "reference", "A member of the team (Practitioner).", _participant_q,
                    _SP + "CareTeam-participant"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[models.CareTeam]:
        return selectors.care_team_queryset_for(actor)

    def with_related(self, qs: QuerySet[Any]) -> QuerySet[Any]:
        return qs.prefetch_related(
            Prefetch("participants", queryset=models.CareTeamParticipant.objects.order_by("id"))
        )

    def to_fhir(self, t: models.CareTeam) -> dict[str, Any]:
        participants = []
        for p in t.participants.all():
            role: dict[str, Any] = {"text": p.role}
            if p.role_code:
                role["coding"] = [codes.coding(codes.CS_SNOMED, p.role_code)]
            entry: dict[str, Any] = {"role": [role], "member": codes.ref("Practitioner", p.user_id)}
            period = {k: v.isoformat() for k, v in (("start", p.start), ("end", p.end)) if v}
            if period:
                entry["period"] = period
            participants.append(entry)
        out: dict[str, Any] = {
            "resourceType": "CareTeam",
            "id": str(t.pk),
            "meta": codes.meta(t.version, t.updated_at),
            "status": t.status,
            "name": t.name,
            "subject": codes.ref("Patient", t.patient_id),
        }
        if participants:
            out["participant"] = participants
        out["managingOrganization"] = [codes.ref("Organization", t.organization_id)]
        telecom = [{"system": "phone", "value": number, "use": "work",
                    "extension": [{"url": codes.EXT_CONTACT_PURPOSE, "valueCode": purpose}]}
                   for purpose, number in (("urgent", t.urgent_phone), ("office", t.office_phone)) if number]
        if telecom:
            out["telecom"] = telecom
        return out

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> CareTeamInput:
        patient_id = reference_to(resource.get("subject"), "Patient", "subject")
        if current is not None and patient_id is not None and patient_id != current.patient_id:
            raise ValidationFailed("A care team's patient cannot change.", field_errors={"subject": ["Cannot change."]})
        participants = []
        for n, p in enumerate(resource.get("participant") or []):
            field = f"participant[{n}]"
            user_id = reference_to(p.get("member"), "Practitioner", f"{field}.member")
            if user_id is None:
                raise ValidationFailed(f"{field}.member must reference a Practitioner.",
                                       field_errors={f"{field}.member": ["Required."]})
            roles = p.get("role") or []
            role = roles[0] if roles else {}
            snomed = codes.codes_in(role, codes.CS_SNOMED)
            text = role.get("text") or next((c.get("display") for c in role.get("coding") or [] if c.get("display")),
                                            "")
            period = p.get("period") or {}
            participants.append(services.ParticipantData(
                user_id=user_id, role=str(text or ""), role_code=snomed[0] if snomed else "",
                start=parse_date(period.get("start"), f"{field}.period.start"),
                end=parse_date(period.get("end"), f"{field}.period.end"),
            ))
        purposed = {
            e.get("valueCode"): str(t.get("value") or "")
            for t in resource.get("telecom") or [] if t.get("system") == "phone"
            for e in t.get("extension") or [] if e.get("url") == codes.EXT_CONTACT_PURPOSE
        }
        data = services.CareTeamData(name=str(resource.get("name") or ""),
                                     status=str(resource.get("status") or models.CareTeamStatus.ACTIVE),
                                     participants=participants, urgent_phone=purposed.get("urgent", ""),
                                     office_phone=purposed.get("office", ""))
        return CareTeamInput(patient_id, data)

    def create(self, *, actor: Actor, data: CareTeamInput) -> models.CareTeam:
        patient = _patient_for_write(actor, data.patient_id, "subject")
        return services.care_team_create(actor=actor, patient=patient, data=data.data, channel="fhir")

    def update(self, *, actor: Actor, obj: models.CareTeam, data: CareTeamInput, expected_version: int | None) -> models.CareTeam:
        return services.care_team_update(actor=actor, team=obj, data=data.data, expected_version=expected_version,
                                         channel="fhir")


# ===================================== Consent ============================================================

_SCOPE_OF_KIND = {
    models.ConsentKind.TREATMENT: ("treatment", "Treatment"),
    models.ConsentKind.DATA_SHARING: ("patient-privacy", "Privacy Consent"),
    models.ConsentKind.CAREGIVER_PROXY: ("patient-privacy", "Privacy Consent"),
    models.ConsentKind.RESEARCH: ("research", "Research"),
}


@dataclass
class ConsentInput:
    patient_id: int | None
    data: services.ConsentData


def _consent_kind_q(name: str, value: str) -> Q:
    system, code = params.token(value)
    if system not in (None, codes.CS_CONSENT_KIND):
        return params.NOTHING
    if code not in models.ConsentKind.values:
        raise params.bad_value(name, value, f"Known codes: {', '.join(models.ConsentKind.values)}.")
    return Q(kind=code)


@register
class ConsentMapper(ResourceMapper):
    resource_type = "Consent"
    model = models.Consent
    patient_linked = True
    audit_category = selectors.CONSENT_CATEGORY
    documentation = ("Treatment, data-sharing, caregiver-proxy and research consents. The consent kind is the "
                     f"category coded in {codes.CS_CONSENT_KIND}; data sharing names the recipient "
                     "Organization in provision.actor; caregiver proxy names the caregiver as a logical "
                     f"RelatedPerson reference (identifier system {codes.SID_USER}) and the proxy scope in "
                     f"provision.action ({codes.CS_PROXY_SCOPE}).")
    search_params = (
        SearchParam("patient", "reference", "The patient who gave the consent.",
                    params.reference_filter("patient_id", "Patient"), _SP + "clinical-patient"),
        SearchParam("status", "token", "draft | proposed | active | rejected | inactive | entered-in-error",
                    params.code_filter("status", "http://hl7.org/fhir/consent-state-codes", models.ConsentStatus.values),
                    _SP + "Consent-status"),
        SearchParam("category", "token", f"The consent kind ({codes.CS_CONSENT_KIND}).", _consent_kind_q,
                    _SP + "Consent-category"),
        SearchParam("organization", "reference", "The custodian organisation that recorded the consent.",
                    params.reference_filter("organization_id", "Organization"), _SP + "Consent-organization"),
        SearchParam("actor", "reference", "The organisation the data is shared with.",
                    params.reference_filter("grantee_organization_id", "Organization"), _SP + "Consent-actor"),
    )

    def check_access(self, actor: Actor, interaction: str) -> None:
        _patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[models.Consent]:
        return selectors.consent_queryset_for(actor)

    def to_fhir(self, c: models.Consent) -> dict[str, Any]:
        scope_code, scope_display = _SCOPE_OF_KIND[models.ConsentKind(c.kind)]
        provision: dict[str, Any] = {"type": "permit"}
        period = {k: v.isoformat() for k, v in (("start", c.period_start), ("end", c.period_end)) if v}
        if period:
            provision["period"] = period
        recipient = {"coding": [codes.coding(codes.CS_V3_PARTICIPATION, "IRCP", "information recipient")]}
        if c.kind == models.ConsentKind.DATA_SHARING and c.grantee_organization_id:
            provision["actor"] = [{"role": recipient, "reference": codes.ref("Organization", c.grantee_organization_id)}]
        elif c.kind == models.ConsentKind.CAREGIVER_PROXY and c.grantee_user_id:
            provision["actor"] = [{"role": recipient, "reference": {
                "type": "RelatedPerson",
                "identifier": {"system": codes.SID_USER, "value": str(c.grantee_user_id)},
            }}]
            action = [codes.coding(codes.CS_CONSENT_ACTION, "access", "Access")]
            if c.proxy_scope:
                action.append(codes.coding(codes.CS_PROXY_SCOPE, c.proxy_scope, models.ProxyScope(c.proxy_scope).label))
            provision["action"] = [{"coding": action}]
        return {
            "resourceType": "Consent",
            "id": str(c.pk),
            "meta": codes.meta(c.version, c.updated_at),
            "status": c.status,
            "scope": {"coding": [codes.coding(codes.CS_CONSENT_SCOPE, scope_code, scope_display)]},
            "category": [{"coding": [
                codes.coding(codes.CS_LOINC, "59284-0", "Patient Consent"),
                codes.coding(codes.CS_CONSENT_KIND, c.kind, models.ConsentKind(c.kind).label),
            ]}],
            "patient": codes.ref("Patient", c.patient_id),
            "dateTime": codes.instant(c.created_at),
            "performer": [codes.ref("Patient", c.patient_id)],
            "organization": [codes.ref("Organization", c.organization_id)],
            "policyRule": {"coding": [codes.coding(codes.CS_V3_ACT_CODE, "OPTIN", "opt-in")]},
            "provision": provision,
        }

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> ConsentInput:
        kinds = [k for cat in resource.get("category") or [] for k in codes.codes_in(cat, codes.CS_CONSENT_KIND)]
        if len(kinds) != 1 or kinds[0] not in models.ConsentKind.values:
            raise ValidationFailed(
                f"category must carry exactly one consent kind from {codes.CS_CONSENT_KIND} "
                f"({', '.join(models.ConsentKind.values)}).", field_errors={"category": ["Missing or unknown kind."]})
        kind = kinds[0]
        patient_id = reference_to(resource.get("patient"), "Patient", "patient")
        if current is not None and patient_id is not None and patient_id != current.patient_id:
            raise ValidationFailed("A consent's patient cannot change.", field_errors={"patient": ["Cannot change."]})
        provision = resource.get("provision") or {}
        period = provision.get("period") or {}
        grantee_org = grantee_user = None
        for n, a in enumerate(provision.get("actor") or []):
            reference = a.get("reference") or {}
            field = f"provision.actor[{n}].reference"
            if "reference" in reference:
                grantee_org = reference_to(reference, "Organization", field)
            elif (reference.get("identifier") or {}).get("system") == codes.SID_USER:
                user_pk = parse_id(str(reference["identifier"].get("value") or ""))
                if user_pk is None:
                    raise ValidationFailed(f"{field} has an unknown user id.", field_errors={field: ["Unknown."]})
                grantee_user = user_pk
        proxy_scopes = [s for act in provision.get("action") or [] for s in codes.codes_in(act, codes.CS_PROXY_SCOPE)]
        proxy_scope = proxy_scopes[0] if proxy_scopes else ""
        if kind == models.ConsentKind.CAREGIVER_PROXY:  # the service checks that the proxy is a caregiver's account
            proxy_scope = proxy_scope or models.ProxyScope.VIEW
        data = services.ConsentData(
            kind=kind,
            status=str(resource.get("status") or ""),
            grantee_organization_id=grantee_org if kind == models.ConsentKind.DATA_SHARING else None,
            grantee_user_id=grantee_user if kind == models.ConsentKind.CAREGIVER_PROXY else None,
            proxy_scope=proxy_scope if kind == models.ConsentKind.CAREGIVER_PROXY else "",
            period_start=parse_date(period.get("start"), "provision.period.start"),
            period_end=parse_date(period.get("end"), "provision.period.end"),
            note=current.note if current is not None else "",
        )
        return ConsentInput(patient_id, data)

    def create(self, *, actor: Actor, data: ConsentInput) -> models.Consent:
        patient = _patient_for_write(actor, data.patient_id, "patient")
        return services.consent_create(actor=actor, patient=patient, data=data.data, channel="fhir")

    def update(self, *, actor: Actor, obj: models.Consent, data: ConsentInput, expected_version: int | None) -> models.Consent:
        return services.consent_update(actor=actor, consent=obj, data=data.data, expected_version=expected_version,
                                       channel="fhir")

