"""Patient identifiers never travel in URLs the servers log, and never reach a log.

These tests plant a name, an MRN and a birth date (``phi_canary``) in searches through every door and in
requests the servers log (4xx); the session-wide watch in the root ``conftest.py`` then searches every log
record of the whole run, and the log files under ``var/``, for them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.core.wsgi import get_wsgi_application
from django.db import connections
from django.test import Client

from oncoliaison.core.logfilters import StripQueryStrings, strip_query_strings
from oncoliaison.core.tests.test_api_auth import as_user
from oncoliaison.patients.models import Patient, PatientIdentifier
from oncoliaison.testing import Cast

from .phi_canary import BIRTH_DATE, FAMILY, GIVEN, MRN, PLANTED

SEARCH = {"identifier": MRN, "q": f"{GIVEN} {FAMILY}", "birth_date": BIRTH_DATE}


@pytest.fixture
def canary_patient(cast: Cast) -> Patient:
    patient = Patient.objects.create(organization=cast.lead, given_name=GIVEN, family_name=FAMILY,
                                     birth_date=dt.date.fromisoformat(BIRTH_DATE), gender="female", synthetic=True)
    PatientIdentifier.objects.create(patient=patient, organization=cast.lead, system=cast.lead.mrn_system,
                                     value=MRN, type_code="MR")
    return patient


def _no_planted_value(text: str) -> None:
    assert not any(value in text for value in PLANTED), text


# --- the development server's request log ------------------------------------------------------------


@pytest.fixture
def dev_server() -> Iterator[str]:
    """Django's development server (the runserver WSGI server and request handler, which logs 4xx/5xx
    request lines to ``django.server``) on a free loopback port, serving the project."""
    server = WSGIServer(("127.0.0.1", 0), WSGIRequestHandler)
    server.set_app(get_wsgi_application())
    def serve() -> None:
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # the server thread's own connection (else PostgreSQL keeps the test db)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@pytest.mark.django_db(transaction=True)  # refused requests are audited, from the server's thread
def test_the_development_server_logs_refused_searches_without_their_query_strings(
    dev_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Unauthenticated FHIR and JSON API searches answer 401, which the server logs: path only."""
    caplog.set_level(logging.INFO, logger="django.server")
    query = urlencode({"identifier": MRN, "name": FAMILY, "birthdate": BIRTH_DATE})
    assert _get(f"{dev_server}/fhir/Patient?{query}") == 401
    assert _get(f"{dev_server}/api/patients?{query}") == 401
    _get(f"{dev_server}/patients/999999/?{query}")  # a page: redirected to sign-in
    lines = [r.getMessage() for r in caplog.records if r.name == "django.server"]
    assert any("/fhir/Patient?…" in line and "401" in line for line in lines), lines
    assert any("/api/patients?…" in line for line in lines), lines
    for line in lines:
        _no_planted_value(line)


def test_a_query_string_is_cut_from_any_message_and_argument() -> None:
    record = logging.LogRecord("any", logging.WARNING, __file__, 1, "Fetched %s from %s", (
        f"https://ehr.example.org/fhir/Patient?identifier={MRN}&name={FAMILY}", f"/api/patients?q={GIVEN}"),
        None)
    assert StripQueryStrings().filter(record) is True
    text = record.getMessage()
    _no_planted_value(text)
    assert text == "Fetched https://ehr.example.org/fhir/Patient?… from /api/patients?…"
    assert strip_query_strings(f'"GET /fhir/Patient?birthdate={BIRTH_DATE} HTTP/1.1" 400') == \
        '"GET /fhir/Patient?… HTTP/1.1" 400'
    assert strip_query_strings("no url here? none") == "no url here? none"


# --- the production server's access log ----------------------------------------------------------------


def test_the_gunicorn_access_log_format_writes_no_query_string() -> None:
    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    conf = importlib.import_module("oncoliaison.gunicorn_conf")
    for atom in ("%(r)s", "%(q)s", "%(f)s", "{raw_uri}"):
        assert atom not in conf.access_log_format
    config = Config()
    config.set("access_log_format", conf.access_log_format)
    glog = Logger(config)
    query = urlencode(SEARCH)
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": f"/fhir/Patient?{query}", "PATH_INFO": "/fhir/Patient",
               "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
               "HTTP_REFERER": f"https://oncoliaison.example.org/patients/?{query}", "HTTP_USER_AGENT": "ehr/1"}

    class Response:
        status, sent, headers = "200 OK", 512, [("Content-Type", "application/fhir+json")]

    line = conf.access_log_format % glog.atoms(Response(), [], environ, dt.timedelta(milliseconds=12))
    assert '"GET /fhir/Patient HTTP/1.1" 200 512 12ms' in line
    _no_planted_value(line)
    logging.getLogger("gunicorn.access").info(line)  # what production would write, for the run-wide watch


# --- searches keep the identifiers in the body ---------------------------------------------------------


@pytest.mark.django_db
def test_json_api_search_terms_in_a_url_are_refused_and_go_in_the_body(cast: Cast, canary_patient: Patient) -> None:
    client = as_user(cast.navigator)
    for name, value in SEARCH.items():
        refused = client.get("/api/patients", {name: value})
        assert refused.status_code == 400, refused.content
        assert "POST /api/patients/search" in refused.json()["message"]
        _no_planted_value(refused.content.decode())
    for name, value in SEARCH.items():
        found = client.post("/api/patients/search", {name: value}, content_type="application/json")
        assert [p["id"] for p in found.json()["items"]] == [canary_patient.pk], name
    assert client.get("/api/patients", {"page_size": 5}).status_code == 200  # paging alone is fine


@pytest.mark.django_db
def test_page_search_posts_the_terms(cast: Cast, canary_patient: Patient) -> None:
    client = Client()
    client.force_login(cast.navigator)
    form = client.get("/patients/").content.decode()
    assert 'method="post"' in form
    found = client.post("/patients/", {"text": f"{GIVEN} {FAMILY}", "identifier": MRN, "birth_date": BIRTH_DATE})
    assert found.status_code == 200 and FAMILY in found.content.decode()
    refused = client.post("/patients/", {"text": "", "identifier": MRN, "birth_date": "21/07/1933"})
    assert refused.status_code == 400


@pytest.mark.django_db
def test_fhir_search_by_post_keeps_identifiers_out_of_the_url(cast: Cast, canary_patient: Patient) -> None:
    from oncoliaison.accounts.services import api_client_create, token_issue

    issued = api_client_create(organization=cast.lead, scopes="system/Patient.rs")
    token = token_issue(client_id=issued.client_id, client_secret=issued.client_secret).access_token
    client = Client(headers={"Authorization": f"Bearer {token}"})
    form: dict[str, Any] = {"identifier": MRN, "family": FAMILY, "birthdate": BIRTH_DATE}
    found = client.post("/fhir/Patient/_search", urlencode(form), content_type="application/x-www-form-urlencoded")
    assert found.status_code == 200, found.content
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [str(canary_patient.pk)]
    # a refused search (an unknown parameter) is logged by nobody with its values
    bad = client.post("/fhir/Patient/_search", urlencode({**form, "nickname": GIVEN}),
                      content_type="application/x-www-form-urlencoded")
    assert bad.status_code == 400
