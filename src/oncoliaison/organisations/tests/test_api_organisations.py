"""JSON API: the network directory and roles (/api/organisations, /memberships)."""

from __future__ import annotations

from django.test import Client

from oncoliaison.core.models import AuditEvent
from oncoliaison.core.tests.test_api_auth import as_user, assert_error, bearer
from oncoliaison.organisations.models import Membership, Organization, Role
from oncoliaison.testing import Cast

NEW_ORG = {"name": "Valley Oncology Associates", "kind": "partner_hospital", "city": "Valley", "state": "OH"}


# --- directory ----------------------------------------------------------------------------------------


def test_staff_list_the_directory_and_filter_by_kind(cast: Cast) -> None:
    client = as_user(cast.outsider)
    assert [o["slug"] for o in client.get("/api/organisations").json()] == ["lead", "partner", "research"]
    assert [o["slug"] for o in client.get("/api/organisations", {"kind": "research"}).json()] == ["research"]
    assert_error(client.get("/api/organisations", {"kind": "bakery"}), 422, "processing")


def test_get_by_slug_with_etag(cast: Cast) -> None:
    response = as_user(cast.navigator).get("/api/organisations/partner")
    assert response.status_code == 200 and response.json()["name"] == "Partner Hospital"
    assert response["ETag"] == 'W/"1"'
    assert_error(as_user(cast.navigator).get("/api/organisations/nowhere"), 404, "not-found")


def test_directory_requires_staff_role(cast: Cast) -> None:
    for user in (cast.patient_user, cast.caregiver):
        assert_error(as_user(user).get("/api/organisations"), 403, "forbidden")
        assert_error(as_user(user).get("/api/organisations/lead"), 403, "forbidden")


def test_directory_with_tokens(cast: Cast) -> None:
    assert len(Client().get("/api/organisations", **bearer(cast.partner, "system/Organization.rs")).json()) == 3
    assert_error(Client().get("/api/organisations", **bearer(cast.partner, "system/Patient.rs")), 403, "forbidden")


# --- create / update --------------------------------------------------------------------------------------


def test_lead_program_admin_adds_an_organisation(cast: Cast) -> None:
    response = as_user(cast.admin).post("/api/organisations", NEW_ORG, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["slug"] == "valley-oncology-associates"
    org = Organization.objects.get(slug="valley-oncology-associates")
    assert AuditEvent.objects.filter(resource_type="Organization", resource_id=str(org.pk), channel="api").exists()


def test_adding_organisations_requires_a_lead_program_admin(cast: Cast) -> None:
    count = Organization.objects.count()
    for user in (cast.navigator, cast.outsider, cast.researcher, cast.patient_user):
        assert_error(as_user(user).post("/api/organisations", NEW_ORG, content_type="application/json"),
                     403, "forbidden")
    headers = bearer(cast.partner, "system/Organization.crus")  # not a lead program
    assert_error(Client().post("/api/organisations", NEW_ORG, content_type="application/json", **headers),
                 403, "forbidden")
    assert Organization.objects.count() == count
    lead_client = bearer(cast.lead, "system/Organization.crus")
    assert Client().post("/api/organisations", NEW_ORG, content_type="application/json",
                         **lead_client).status_code == 201


def test_organisation_bad_input_is_422_and_duplicate_409(cast: Cast) -> None:
    client = as_user(cast.admin)
    count = Organization.objects.count()
    assert_error(client.post("/api/organisations", {**NEW_ORG, "name": " "}, content_type="application/json"),
                 422, "processing")
    assert_error(client.post("/api/organisations", {**NEW_ORG, "kind": "bakery"}, content_type="application/json"),
                 422, "processing")
    assert Organization.objects.count() == count
    assert_error(client.post("/api/organisations", {**NEW_ORG, "slug": "partner"}, content_type="application/json"),
                 409, "conflict")
    assert Organization.objects.count() == count


def test_admin_updates_own_organisation_with_version(cast: Cast) -> None:
    client = as_user(cast.admin)
    response = client.patch("/api/organisations/lead", {"phone": "555-0100"}, content_type="application/json",
                            HTTP_IF_MATCH='W/"1"')
    assert response.status_code == 200, response.content
    assert response.json()["phone"] == "555-0100" and response.json()["name"] == "Lead Cancer Program"
    assert response["ETag"] == 'W/"2"'
    assert_error(client.patch("/api/organisations/lead", {"phone": "x", "version": 1},
                              content_type="application/json"), 412, "conflict")
    cast.lead.refresh_from_db()
    assert cast.lead.phone == "555-0100"


def test_update_requires_admin_of_that_organisation(cast: Cast) -> None:
    for user in (cast.navigator, cast.outsider):
        assert_error(as_user(user).patch("/api/organisations/lead", {"phone": "1", "version": 1},
                                         content_type="application/json"), 403, "forbidden")
    assert_error(as_user(cast.admin).patch("/api/organisations/partner", {"phone": "1", "version": 1},
                                           content_type="application/json"), 403, "forbidden")
    cast.lead.refresh_from_db()
    assert cast.lead.version == 1


# --- memberships -------------------------------------------------------------------------------------


def test_staff_list_their_own_organisations_roles(cast: Cast) -> None:
    body = as_user(cast.navigator).get("/api/organisations/lead/memberships").json()
    assert {(m["username"], m["role"]) for m in body} == {
        ("grace", "navigator"), ("sam", "physician"), ("linda", "program_admin")
    }


def test_memberships_of_other_organisations_are_refused(cast: Cast) -> None:
    assert_error(as_user(cast.outsider).get("/api/organisations/lead/memberships"), 403, "forbidden")
    headers = bearer(cast.partner, "system/PractitionerRole.rs")
    assert_error(Client().get("/api/organisations/lead/memberships", **headers), 403, "forbidden")
    assert len(Client().get("/api/organisations/partner/memberships", **headers).json()) == 1
    assert_error(Client().get("/api/organisations/partner/memberships",
                              **bearer(cast.partner, "system/Patient.rs")), 403, "forbidden")


def test_admin_grants_and_ends_a_role(cast: Cast) -> None:
    client = as_user(cast.admin)
    response = client.post("/api/organisations/lead/memberships",
                           {"user_id": cast.outsider.pk, "role": "partner_staff", "title": "Liaison"},
                           content_type="application/json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["organization"] == "lead" and created["username"] == "olga"
    url = f"/api/organisations/lead/memberships/{created['id']}"
    response = client.patch(url, {"active": False, "version": 1}, content_type="application/json")
    assert response.status_code == 200 and response.json()["active"] is False
    assert_error(client.patch(url, {"title": "x", "version": 1}, content_type="application/json"), 412, "conflict")
    assert AuditEvent.objects.filter(resource_type="PractitionerRole", resource_id=str(created["id"])).count() == 2


def test_membership_changes_require_admin_and_validate(cast: Cast) -> None:
    count = Membership.objects.count()
    payload = {"user_id": cast.outsider.pk, "role": "navigator"}
    assert_error(as_user(cast.navigator).post("/api/organisations/lead/memberships", payload,
                                              content_type="application/json"), 403, "forbidden")
    client = as_user(cast.admin)
    assert_error(client.post("/api/organisations/lead/memberships", {**payload, "role": "king"},
                             content_type="application/json"), 422, "processing")
    assert_error(client.post("/api/organisations/lead/memberships", {**payload, "user_id": cast.patient_user.pk},
                             content_type="application/json"), 422, "processing")
    assert_error(client.post("/api/organisations/lead/memberships",
                             {"user_id": cast.navigator.pk, "role": Role.NAVIGATOR},
                             content_type="application/json"), 409, "conflict")
    assert Membership.objects.count() == count
    other = Membership.objects.get(user=cast.outsider)
    assert_error(client.patch(f"/api/organisations/lead/memberships/{other.pk}", {"title": "x", "version": 1},
                              content_type="application/json"), 404, "not-found")
