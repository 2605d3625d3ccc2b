"""Property-based fuzzing of the JSON API against its own OpenAPI document (schemathesis).

Every operation of ``/api/openapi.json`` is called in-process (WSGI) with schema-valid and schema-violating
requests, as an API client with a bearer token and as a signed-in person with a session and the CSRF
token.  A test fails on any 5xx, an undocumented status, a response that does not match its schema, a
schema-violating request that is accepted, or a schema-valid request refused with 422 (except for the
listed rules that JSON Schema cannot state, below).

Bounded and reproducible: a fixed seed, ``derandomize``, ``FUZZ_EXAMPLES`` examples per operation and mode
(default 6).  The figures of a run are written to ``var/fuzz-figures.json``; ``docs/security.md`` quotes
them.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.test import Client
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import ignored_auth

from oncoliaison.accounts.services import api_client_create, token_issue
from oncoliaison.api import api
from oncoliaison.assessments.testing import load_instruments
from oncoliaison.testing import Cast

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))
SEED = 20261204
FIGURES = Path("var/fuzz-figures.json")

# A 422 for a schema-valid request is a defect of the document (it should have said so), except for rules
# that depend on other fields or on stored data, which JSON Schema cannot state.  Each is listed with the
# fields the answer may name; any other field in a 422 fails the run.
RULES_BEYOND_THE_SCHEMA: dict[tuple[str, str], set[str]] = {
    # the slug is derived from the name when left out; a name of punctuation only gives none; the office
    # must close after it opens (two fields together); a phone number must be diallable (its digit count
    # depends on whether it starts with a country code)
    ("POST", "/api/organisations"): {"slug", "office_opens", "urgent_phone", "office_phone"},
    ("PATCH", "/api/organisations/{slug}"): {"office_opens", "urgent_phone", "office_phone"},
    # Django's e-mail validator (the document says format: email but also allows ""); a birth date must be
    # in the past (depends on today); the organisation slug must exist (stored data)
    ("POST", "/api/patients"): {"email", "identifiers", "organization", "birth_date"},
    ("PATCH", "/api/patients/{patient_id}"): {"email", "identifiers", "birth_date"},
    # participants must be practitioners (staff) of the organisation: stored data
    ("POST", "/api/patients/{patient_id}/care-teams"): {"participants"},
    ("PATCH", "/api/patients/{patient_id}/care-teams/{team_id}"): {"participants"},
    # which grantee and scope a consent needs depends on its kind; the grantee must exist
    ("POST", "/api/patients/{patient_id}/consents"): {"proxy_scope", "grantee_user", "grantee_organization",
                                                      "period"},
    ("PATCH", "/api/patients/{patient_id}/consents/{consent_id}"): {"proxy_scope", "grantee_user",
                                                                    "grantee_organization", "period"},
    # a referral names a patient record or the person's details; attachments need a name and content
    # (the telephone number is checked after trimming white space)
    ("POST", "/api/referrals"): {"given_name", "family_name", "birth_date", "attachments", "email", "phone", "requester",
                                 "referring_clinician", "patient", "identifier", "receiving_organization",
                                 "referring_organization"},
    # the answers' keys and values are the items of the chosen instrument (stored definitions); errors are
    # named by item, so any field
    ("POST", "/api/patients/{patient_id}/symptom-reports"): {"*"},
    # a dispense cannot be dated in the future (depends on today); a source id needs its source system (two
    # fields together)
    ("POST", "/api/patients/{patient_id}/dispenses"): {"dispensed_on", "source_system"},
    ("POST", "/api/patients/{patient_id}/assessments"): {"*"},
    # thread participants must be people the caller may message: stored data
    # and a patient thread names its patient (depends on kind)
    ("POST", "/api/messages/threads"): {"participant_ids", "participants", "patient_id", "patient", "kind"},
    # tumor boards: the coordinator must be a clinician of the program and partners active partner hospitals
    # (stored data); a meeting starts in the future (depends on now); a requested attendee, an attendee and
    # a responsible clinician must be members of a taking-part organisation (stored data); some fields are
    # needed only with others (a declined case's reason, a dissent's reason, the agreed stage when the stage
    # was discussed, the guideline's body with its name, trials named only when discussed); a due date is
    # not in the past (depends on today)
    ("POST", "/api/tumor-boards"): {"coordinator", "shared_with", "organization"},
    ("POST", "/api/tumor-boards/{series_id}/meetings"): {"starts_at"},
    ("POST", "/api/tumor-board-meetings/{meeting_id}/cases"): {"requested_attendees"},
    ("POST", "/api/tumor-board-meetings/{meeting_id}/attendance"): {"user", "organization"},
    ("POST", "/api/tumor-board-cases/{case_id}/decision"): {"note", "decision"},
    ("POST", "/api/tumor-board-cases/{case_id}/discussion"): {"stage_agreed", "guideline_body", "trial_discussed"},
    ("POST", "/api/tumor-board-cases/{case_id}/recommendations"): {"dissent_reason", "responsible", "due_date"},
}

CONFIG = schemathesis.config.SchemathesisConfig.from_dict({
    "seed": SEED,
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True},
    # 412/428: a stale or missing version is a precondition, not a shape; the checks below cover 422.
    "checks": {"positive_data_acceptance": {"enabled": False}},
})
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(path_prefix="/api/"), config=CONFIG)
schema.app = get_wsgi_application()

FIGURES_SEEN: Counter[str] = Counter()


@schemathesis.check
def schema_valid_requests_are_accepted(ctx: Any, response: Any, case: Any) -> bool | None:
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive:
        return None
    status = response.status_code
    if 200 <= status < 400 or status in {401, 403, 404, 409, 412, 428, 429}:
        return None
    fields: set[str] = set()
    if status == 422:
        try:
            fields = {name.split(".")[0] for name in json.loads(response.content).get("fields", {})}
        except ValueError:
            fields = set()
        # An Idempotency-Key already used for a different request is refused: stored state, on every write.
        allowed = RULES_BEYOND_THE_SCHEMA.get((case.method.upper(), case.path), set()) | {"Idempotency-Key"}
        if fields and (fields <= allowed or "*" in allowed):
            return None
    raise AssertionError(f"A schema-valid request was refused with {status} (fields {sorted(fields)}): the "
                         "document should say what the code enforces, or list the rule in RULES_BEYOND_THE_SCHEMA.")


@pytest.fixture(scope="module", autouse=True)
def _write_figures() -> Iterator[None]:
    yield
    FIGURES.parent.mkdir(exist_ok=True)
    old = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    old["api"] = {"operations": len(list(schema.get_all_operations())), "examples_per_mode": EXAMPLES,
                  "seed": SEED, **FIGURES_SEEN}
    FIGURES.write_text(json.dumps(old, indent=2, sort_keys=True) + "\n")


@contextlib.contextmanager
def _one_connection() -> Iterator[None]:
    """Requests go straight to the WSGI application, whose request signals close the database connection at
    the end of each request; the test's transaction needs it open (Django's test client does the same, and
    reconnects the signals after each of its own requests, so this wraps each call)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["bearer", "session"])
def credentials(request: pytest.FixtureRequest, cast: Cast) -> dict[str, Any]:
    load_instruments(cast)
    if request.param == "bearer":
        issued = api_client_create(organization=cast.lead, scopes="system/*.cruds")
        token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
        return {"headers": {"Authorization": f"Bearer {token}"}}
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")  # the sign-in form sets the CSRF cookie
    client.force_login(cast.navigator)
    csrf = client.cookies["csrftoken"].value
    return {"headers": {"X-CSRFToken": csrf},
            "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf}}


@pytest.mark.django_db
@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
def test_api_operation_keeps_its_contract(case: Any, credentials: dict[str, Any]) -> None:
    FIGURES_SEEN["requests"] += 1
    # With a session the cookie, which schemathesis does not know as credentials, still signs the request
    # in when it tries "no or a wrong Authorization header": that check runs with bearer tokens only.
    excluded = [ignored_auth] if "cookies" in credentials else []
    try:
        with _one_connection():
            case.call_and_validate(headers=credentials["headers"], cookies=credentials.get("cookies"),
                                   additional_checks=[schema_valid_requests_are_accepted],
                                   excluded_checks=excluded)
    except Exception:
        FIGURES_SEEN["failures"] += 1
        raise
