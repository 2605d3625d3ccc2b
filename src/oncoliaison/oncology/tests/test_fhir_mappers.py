"""Read and search of the cancer record over FHIR: mCODE profiles, R4 validity, search parameters, access."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from django.test import Client
from fhir.resources.R4B import get_fhir_model_class

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.core.testing import Cast
from oncoliaison.oncology import models as m
from oncoliaison.oncology.fhir import RECORD_MAPPERS
from oncoliaison.oncology.importing import bundle_import, system_actor_for
from oncoliaison.oncology.services import import_review_resolve

from .fixtures import mcode_collection, synthea_bundle, synthea_paths


@pytest.fixture(autouse=True)
def _fhir_routes(settings):  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "oncoliaison.fhir.tests.urls"


def import_mcode(cast: Cast) -> None:
    result = bundle_import(actor=system_actor_for(cast.lead.pk), bundle=mcode_collection(), source="urn:mcode")
    assert result.rejected == []
    for review in m.ImportReview.objects.filter(status="pending"):
        import_review_resolve(actor=cast.actor(cast.navigator), review=review, decision="create")


def import_synthea(cast: Cast, count: int | None = None) -> None:
    for path in synthea_paths()[:count]:
        bundle_import(actor=system_actor_for(cast.lead.pk), bundle=synthea_bundle(path), source="urn:synthea",
                      synthetic=True)


def token(cast: Cast, organization: Any = None, scopes: str = "system/*.rs") -> str:
    issued = api_client_create(organization=organization or cast.lead, scopes=scopes)
    return token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token


def get(path: str, tok: str | None, **query: str) -> Any:
    headers = {"Authorization": f"Bearer {tok}"} if tok else {}
    return Client().get(f"/fhir{path}", query, headers=headers)


def validate(resource: dict[str, Any]) -> None:
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def rendered(cast: Cast) -> list[dict[str, Any]]:
    actor = system_actor_for(cast.lead.pk)
    out = []
    for mapper in RECORD_MAPPERS:
        for row in mapper.queryset_for(actor):
            out.append(mapper.to_fhir(row))
    return out


def test_every_mapped_mcode_resource_is_valid_r4_with_a_profile(cast: Cast) -> None:
    import_mcode(cast)
    resources = rendered(cast)
    assert len(resources) > 30
    for resource in resources:
        validate(resource)
        if resource["resourceType"] != "Observation" or not resource["id"].isdigit():
            assert resource["meta"]["profile"], resource["resourceType"]
        orjson.dumps(resource)
    profiles = {p.rsplit("/", 1)[-1] for r in resources for p in r["meta"].get("profile", [])}
    assert {"mcode-primary-cancer-condition", "mcode-secondary-cancer-condition", "mcode-tumor-marker-test",
            "mcode-tnm-stage-group", "mcode-ecog-performance-status", "mcode-cancer-disease-status",
            "mcode-cancer-related-surgical-procedure", "mcode-radiotherapy-course-summary",
            "mcode-cancer-related-medication-request", "mcode-cancer-related-medication-administration",
            "variant"} <= profiles


def test_every_mapped_synthea_resource_is_valid_r4(cast: Cast) -> None:
    import_synthea(cast, 4)
    resources = rendered(cast)
    assert len(resources) > 200
    for resource in resources:
        validate(resource)
