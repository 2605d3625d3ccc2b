"""The API's published contract and its documentation page.

``/api/openapi.json`` is compared with the committed snapshot ``snapshots/openapi.json`` so that any change
to the contract is deliberate and reviewed.  After an intended change, regenerate the snapshot with::

    ONCOLIAISON_UPDATE_SNAPSHOTS=1 .venv/bin/pytest src/oncoliaison/core/tests/test_api_openapi.py

and commit the new file together with the change.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.test import Client

SNAPSHOT = Path(__file__).parent / "snapshots" / "openapi.json"


@pytest.mark.django_db
def test_openapi_matches_the_committed_snapshot() -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    current = json.dumps(response.json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("ONCOLIAISON_UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(current, encoding="utf-8")
        pytest.skip("snapshot written; review and commit it")
    assert SNAPSHOT.exists(), "No snapshot yet: generate it with ONCOLIAISON_UPDATE_SNAPSHOTS=1 (see docstring)."
    assert current == SNAPSHOT.read_text(encoding="utf-8"), (
        "The API contract changed.  If intended, regenerate with ONCOLIAISON_UPDATE_SNAPSHOTS=1 (see docstring)."
    )


@pytest.mark.django_db
def test_openapi_documents_auth_and_every_domain() -> None:
    spec = Client().get("/api/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert {s["type"] for s in schemes.values()} == {"http", "apiKey"}
    paths = set(spec["paths"])
    for path in ("/api/me", "/api/organisations", "/api/patients", "/api/patients/{patient_id}",
                 "/api/patients/{patient_id}/care-teams", "/api/patients/{patient_id}/consents",
                 "/api/audit-events"):
        assert path in paths, path
    # Error answers are documented in the one error shape.
    get_patient = spec["paths"]["/api/patients/{patient_id}"]["get"]
    assert get_patient["responses"]["404"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorOut")


@pytest.mark.django_db
def test_docs_page_uses_local_assets_under_the_strict_csp() -> None:
    response = Client().get("/api/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "cdn.jsdelivr" not in html and "https://" not in html
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in html
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert Client().get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_schema_names_are_unique_across_the_api() -> None:
    """OpenAPI components are named after the Schema classes: two classes with one name (e.g. two
    ``AnswerOut`` in two domains) would silently publish one shape for both."""
    from ninja import Schema

    import oncoliaison.api  # noqa: F401  (imports every domain's schemas)

    seen: dict[str, str] = {}
    clashes = []
    stack = list(Schema.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__module__.startswith("oncoliaison."):
            continue
        where = f"{cls.__module__}.{cls.__qualname__}"
        if seen.setdefault(cls.__name__, where) != where:
            clashes.append(f"{cls.__name__}: {seen[cls.__name__]} and {where}")
        for enum in _enums_of(cls):
            where = f"{enum.__module__}.{enum.__qualname__}"
            if seen.setdefault(enum.__name__, where) != where:
                clashes.append(f"{enum.__name__}: {seen[enum.__name__]} and {where}")
    assert not sorted(set(clashes)), sorted(set(clashes))


def _enums_of(schema: type) -> set[type]:
    """The choices (Enum classes) a Schema's fields take: each is one OpenAPI component named after it, so two
    enums of one name (two ``Urgency``) would publish one set of values for both."""
    import enum
    import typing

    found: set[type] = set()
    stack = [f.annotation for f in getattr(schema, "model_fields", {}).values()]
    while stack:
        t = stack.pop()
        if isinstance(t, type) and issubclass(t, enum.Enum):
            found.add(t)
        stack.extend(typing.get_args(t))
    return found
