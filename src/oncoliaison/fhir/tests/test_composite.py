"""One resource type served by several domains: the registry composes their mappers (CompositeMapper).

Two small mappers serve the FHIR ``Basic`` type here, one over organisations (plain ids) and one over care
teams (ids "ct-<pk>"), so that reads, searches, paging, creates and the CapabilityStatement can be checked
across both.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import QuerySet
from fhir.resources.R4B.bundle import Bundle

from oncoliaison.core.actor import Actor
from oncoliaison.fhir import params, registry
from oncoliaison.fhir.capability import _statement
from oncoliaison.fhir.registry import ResourceMapper, SearchParam
from oncoliaison.organisations.models import Organization
from oncoliaison.organisations.selectors import organization_list_for
from oncoliaison.patients.models import CareTeam
from oncoliaison.patients.selectors import care_team_queryset_for

from .conftest import body

pytestmark = pytest.mark.django_db


class OrgBasic(ResourceMapper):
    resource_type = "Basic"
    model = Organization
    interactions = (registry.READ, registry.SEARCH, registry.CREATE)
    search_params = (SearchParam("name", "string", "Organisation name.", params.string_filter(("name",))),)

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return organization_list_for(actor)

    def to_fhir(self, obj: Any) -> dict[str, Any]:
        return {"resourceType": "Basic", "id": str(obj.pk), "code": {"text": f"organisation {obj.slug}"}}

    def claims(self, resource: dict[str, Any]) -> bool:
        return resource.get("code", {}).get("text") == "organisation"

    def from_fhir(self, resource: dict[str, Any], *, actor: Actor, current: Any = None) -> str:
        return "lead"

    def create(self, *, actor: Actor, data: str) -> Organization:
        return Organization.objects.get(slug=data)  # stands in for a service call


class TeamBasic(ResourceMapper):
    resource_type = "Basic"
    model = CareTeam
    interactions = (registry.READ, registry.SEARCH)
    id_prefix = "ct"
    patient_linked = True
    audit_category = "care_team"
    search_params = (SearchParam("patient", "reference", "The patient.",
                                 params.reference_filter("patient_id", "Patient")),)

    def check_access(self, actor: Actor, interaction: str) -> None:
        from oncoliaison.patients.selectors import require_patient_access_role

        require_patient_access_role(actor)

    def queryset_for(self, actor: Actor) -> QuerySet[Any]:
        return care_team_queryset_for(actor)

    def to_fhir(self, obj: Any) -> dict[str, Any]:
        return {"resourceType": "Basic", "id": str(obj.pk), "code": {"text": "care team"},
                "subject": {"reference": f"Patient/{obj.patient_id}"}}


@pytest.fixture
def composed():  # type: ignore[no-untyped-def]
    saved = dict(registry._REGISTRY)
    registry.register(OrgBasic)
    registry.register(TeamBasic)
    _statement.cache_clear()
    yield registry.get("Basic")
    registry._REGISTRY.clear()
    registry._REGISTRY.update(saved)
    _statement.cache_clear()


def test_reads_dispatch_by_id(cast, lead_api, composed):
    assert body(lead_api.get(f"/Basic/{cast.lead.pk}"))["code"]["text"] == "organisation lead"
    team = lead_api.get(f"/Basic/ct-{cast.care_team.pk}")
    assert team.status_code == 200
    assert body(team)["id"] == f"ct-{cast.care_team.pk}"
    assert team["Content-Location"].endswith(f"/Basic/ct-{cast.care_team.pk}")
    missing = lead_api.get("/Basic/ct-999999")
    assert missing.status_code == 404
    assert missing.content == lead_api.get("/Basic/xx-1").content


def test_search_spans_the_parts_and_pages_across_them(cast, lead_api, composed):
    first = body(lead_api.get("/Basic", {"_count": "2"}))
    Bundle.model_validate(first)
    assert first["total"] == 3 + 1  # three organisations, one visible care team
    seen = [e["resource"]["id"] for e in first["entry"]]
    url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    while url:
        page = body(lead_api.client.get(url.removeprefix("http://testserver"), headers=lead_api.headers))
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), "")
    assert sorted(seen) == sorted([str(cast.lead.pk), str(cast.partner.pk), str(cast.research.pk),
                                   f"ct-{cast.care_team.pk}"])


def test_search_parameters_apply_to_the_parts_that_know_them(cast, lead_api, composed):
    only_orgs = body(lead_api.get("/Basic", {"name": "lead"}))
    assert [e["resource"]["id"] for e in only_orgs["entry"]] == [str(cast.lead.pk)]
    only_teams = body(lead_api.get("/Basic", {"patient": f"Patient/{cast.pat.pk}"}))
    assert [e["resource"]["id"] for e in only_teams["entry"]] == [f"ct-{cast.care_team.pk}"]
    by_id = body(lead_api.get("/Basic", {"_id": f"ct-{cast.care_team.pk},{cast.partner.pk}"}))
    assert {e["resource"]["id"] for e in by_id["entry"]} == {f"ct-{cast.care_team.pk}", str(cast.partner.pk)}


def test_a_role_sees_only_the_parts_it_may_search(cast, session_api, composed):
    researcher = body(session_api(cast.researcher).get("/Basic"))
    assert researcher["total"] == 3  # organisations only: no patient data for researchers


def test_create_goes_to_the_part_that_claims_the_resource(cast, lead_api, composed):
    created = lead_api.post("/Basic", {"resourceType": "Basic", "code": {"text": "organisation"}})
    assert created.status_code == 201
    assert created["Location"].endswith(f"/Basic/{cast.lead.pk}")
    unclaimed = lead_api.post("/Basic", {"resourceType": "Basic", "code": {"text": "something else"}})
    assert unclaimed.status_code == 422


def test_capability_statement_lists_the_union(cast, lead_api, composed):
    statement = body(lead_api.get("/metadata"))
    basic = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Basic")
    assert [i["code"] for i in basic["interaction"]] == ["read", "search-type", "create"]
    assert {p["name"] for p in basic["searchParam"]} == {"_id", "name", "patient"}


def test_two_mappers_with_plain_ids_are_refused():
    class AlsoPlain(TeamBasic):
        id_prefix = ""

    saved = dict(registry._REGISTRY)
    try:
        registry.register(OrgBasic)
        with pytest.raises(RuntimeError, match="id_prefix"):
            registry.register(AlsoPlain)
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
