"""Organization, Practitioner and PractitionerRole over FHIR."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.organization import Organization as FhirOrganization
from fhir.resources.R4B.practitioner import Practitioner as FhirPractitioner
from fhir.resources.R4B.practitionerrole import PractitionerRole as FhirPractitionerRole

from oncoliaison.accounts.models import User
from oncoliaison.fhir import codes
from oncoliaison.organisations.models import Membership, Organization, Role

from .conftest import Fhir, body

pytestmark = pytest.mark.django_db


def ids(api: Fhir, rtype: str, params: dict) -> set[str]:
    data = body(api.get(f"/{rtype}", params))
    Bundle.model_validate(data)
    return {e["resource"]["id"] for e in data.get("entry", [])}


# --- Organization ----------------------------------------------------------------------------------


def org_resource(**overrides):  # type: ignore[no-untyped-def]
    resource = {
        "resourceType": "Organization",
        "identifier": [{"system": codes.SID_ORGANIZATION_SLUG, "value": "valley-general"},
                       {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
        "active": True,
        "type": [{"coding": [{"system": codes.CS_ORGANIZATION_KIND, "code": "partner_hospital"}]}],
        "name": "Valley General Hospital",
        "telecom": [{"system": "phone", "value": "555-0150"}],
        "address": [{"line": ["1 Valley Rd"], "city": "Millbrook", "state": "OH", "postalCode": "45002"}],
    }
    resource.update(overrides)
    return resource


def test_organization_read_and_search(cast, lead_api):
    resource = body(lead_api.get(f"/Organization/{cast.partner.pk}"))
    FhirOrganization.model_validate(resource)
    assert resource["name"] == "Partner Hospital"
    assert resource["identifier"][0] == {"system": codes.SID_ORGANIZATION_SLUG, "value": "partner"}
    assert resource["type"][0]["coding"][0]["code"] == "partner_hospital"
    assert ids(lead_api, "Organization", {"name": "partner"}) == {str(cast.partner.pk)}
    assert ids(lead_api, "Organization", {"identifier": f"{codes.SID_ORGANIZATION_SLUG}|lead"}) == {str(cast.lead.pk)}
    assert ids(lead_api, "Organization", {"type": "research"}) == {str(cast.research.pk)}
    assert ids(lead_api, "Organization", {"type": f"{codes.CS_ORG_TYPE}|prov"}) == {str(cast.lead.pk),
                                                                                  str(cast.partner.pk)}


def test_organization_create_and_update(cast, lead_api):
    response = lead_api.post("/Organization", org_resource())
    assert response.status_code == 201, response.content
    created = body(response)
    FhirOrganization.model_validate(created)
    org = Organization.objects.get(pk=created["id"])
    assert (org.slug, org.kind, org.identifier_value, org.city) == ("valley-general", "partner_hospital",
                                                                   "1234567893", "Millbrook")
    assert lead_api.post("/Organization", org_resource()).status_code == 409  # the short name is taken
    created["name"] = "Valley General"
    updated = lead_api.put(f"/Organization/{org.pk}", created, **{"If-Match": 'W/"1"'})
    # A client may update only its own organisation.
    assert updated.status_code == 403
    own = body(lead_api.get(f"/Organization/{cast.lead.pk}"))
    own["telecom"] = [{"system": "email", "value": "clp@example.org"}]
    response = lead_api.put(f"/Organization/{cast.lead.pk}", own, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert Organization.objects.get(pk=cast.lead.pk).email == "clp@example.org"
    assert lead_api.put(f"/Organization/{cast.lead.pk}", own, **{"If-Match": 'W/"1"'}).status_code == 412


def test_organization_requires_the_right_role(cast, session_api, make_token):
    assert session_api(cast.outsider).post("/Organization", org_resource()).status_code == 403
    assert session_api(cast.patient_user).get("/Organization").status_code == 403
    partner_client = Fhir(make_token(cast.partner))
    assert partner_client.post("/Organization", org_resource()).status_code == 403  # not a lead program
    missing_kind = Fhir(make_token()).post("/Organization", org_resource(type=[]))
    assert missing_kind.status_code == 422


# --- Practitioner --------------------------------------------------------------------------------------


def practitioner_resource(**overrides):  # type: ignore[no-untyped-def]
    resource = {
        "resourceType": "Practitioner",
        "identifier": [{"system": codes.SID_NPI, "value": "1588667638"}],
        "active": True,
        "name": [{"use": "official", "family": "Okafor", "given": ["Ngozi"]}],
        "telecom": [{"system": "email", "value": "n.okafor@example.org"}],
        "gender": "female",
    }
    resource.update(overrides)
    return resource


def test_practitioner_create_read_update_search(cast, lead_api):
    response = lead_api.post("/Practitioner", practitioner_resource())
    assert response.status_code == 201, response.content
    created = body(response)
    FhirPractitioner.model_validate(created)
    user = User.objects.get(pk=created["id"])
    assert (user.first_name, user.last_name, user.npi, user.registered_by_id) == ("Ngozi", "Okafor", "1588667638",
                                                                                  cast.lead.pk)
    assert "Last-Modified" not in response  # no modification time is kept for people
    assert lead_api.post("/Practitioner", practitioner_resource()).status_code == 409  # NPI taken
    assert lead_api.post("/Practitioner", practitioner_resource(
        identifier=[{"system": codes.SID_NPI, "value": "12"}])).status_code == 422
    created["telecom"] = [{"system": "phone", "value": "555-0177"}]
    response = lead_api.put(f"/Practitioner/{user.pk}", created, **{"If-Match": 'W/"1"'})
    assert response.status_code == 200, response.content
    assert User.objects.get(pk=user.pk).phone == "555-0177"
    assert lead_api.put(f"/Practitioner/{user.pk}", created, **{"If-Match": 'W/"1"'}).status_code == 412
    assert ids(lead_api, "Practitioner", {"identifier": f"{codes.SID_NPI}|1588667638"}) == {str(user.pk)}
    assert str(cast.navigator.pk) in ids(lead_api, "Practitioner", {"organization": f"Organization/{cast.lead.pk}"})
    assert ids(lead_api, "Practitioner", {"family": "navig"}) == {str(cast.navigator.pk)}


def test_practitioner_hides_other_organisations(cast, lead_api, partner_api):
    assert partner_api.get(f"/Practitioner/{cast.navigator.pk}").status_code == 404
    assert lead_api.get(f"/Practitioner/{cast.outsider.pk}").status_code == 404
    assert str(cast.outsider.pk) not in ids(lead_api, "Practitioner", {})


def test_practitioner_requires_the_right_role(cast, session_api):
    navigator = session_api(cast.navigator)
    assert navigator.get(f"/Practitioner/{cast.oncologist.pk}").status_code == 200
    assert navigator.post("/Practitioner", practitioner_resource()).status_code == 403
    assert session_api(cast.admin).post("/Practitioner", practitioner_resource()).status_code == 201
    assert session_api(cast.caregiver).get("/Practitioner").status_code == 403


# --- PractitionerRole -----------------------------------------------------------------------------------


def test_practitioner_role_read_search_create_update(cast, lead_api):
    membership = Membership.objects.get(user=cast.navigator, organization=cast.lead)
    resource = body(lead_api.get(f"/PractitionerRole/{membership.pk}"))
    FhirPractitionerRole.model_validate(resource)
    assert resource["practitioner"] == {"reference": f"Practitioner/{cast.navigator.pk}"}
    assert resource["code"][0]["coding"][0] == {"system": codes.CS_ROLE, "code": "navigator",
                                                "display": "Nurse navigator"}
    assert ids(lead_api, "PractitionerRole", {"role": "navigator"}) == {str(membership.pk)}
    assert ids(lead_api, "PractitionerRole", {"practitioner": f"Practitioner/{cast.oncologist.pk}"}) == {
        str(Membership.objects.get(user=cast.oncologist).pk)}

    new_role = {
        "resourceType": "PractitionerRole", "active": True,
        "practitioner": {"reference": f"Practitioner/{cast.navigator.pk}"},
        "organization": {"reference": f"Organization/{cast.lead.pk}"},
        "code": [{"coding": [{"system": codes.CS_ROLE, "code": "clp"}], "text": "Cancer Liaison Physician"}],
        "specialty": [{"coding": [{"system": codes.CS_SNOMED, "code": "394592004"}]}],
    }
    response = lead_api.post("/PractitionerRole", new_role)
    assert response.status_code == 201, response.content
    created = body(response)
    m = Membership.objects.get(pk=created["id"])
    assert (m.role, m.title, m.specialty_code) == (Role.CLP, "Cancer Liaison Physician", "394592004")
    assert lead_api.post("/PractitionerRole", new_role).status_code == 409
    created["active"] = False
    assert lead_api.put(f"/PractitionerRole/{m.pk}", created, **{"If-Match": 'W/"1"'}).status_code == 200
    assert Membership.objects.get(pk=m.pk).active is False
    bad = dict(new_role, code=[{"coding": [{"system": codes.CS_ROLE, "code": "wizard"}]}])
    assert lead_api.post("/PractitionerRole", bad).status_code == 422


def test_practitioner_role_hides_other_organisations(cast, lead_api, partner_api):
    outsider_role = Membership.objects.get(user=cast.outsider)
    assert lead_api.get(f"/PractitionerRole/{outsider_role.pk}").status_code == 404
    assert body(partner_api.get("/PractitionerRole"))["total"] == 1
    grant_at_partner = {
        "resourceType": "PractitionerRole",
        "practitioner": {"reference": f"Practitioner/{cast.navigator.pk}"},
        "organization": {"reference": f"Organization/{cast.partner.pk}"},
        "code": [{"coding": [{"system": codes.CS_ROLE, "code": "navigator"}]}],
    }
    assert lead_api.post("/PractitionerRole", grant_at_partner).status_code == 403


def test_practitioner_role_requires_the_right_role(cast, session_api):
    new_role = {
        "resourceType": "PractitionerRole",
        "practitioner": {"reference": f"Practitioner/{cast.oncologist.pk}"},
        "organization": {"reference": f"Organization/{cast.lead.pk}"},
        "code": [{"coding": [{"system": codes.CS_ROLE, "code": "clp"}]}],
    }
    assert session_api(cast.navigator).post("/PractitionerRole", new_role).status_code == 403
    assert session_api(cast.admin).post("/PractitionerRole", new_role).status_code == 201
