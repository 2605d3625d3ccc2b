"""oncoliaison create-api-client: register an OAuth 2.0 client (client-credentials) for an organisation.

    oncoliaison create-api-client --organization riverside-cancer-institute \\
        --scopes "system/Patient.rs system/Consent.crus" --name "Registry feed"

Prints {"client_id", "client_secret", "organization", "scopes", "token_endpoint"} as JSON.  The secret is
shown this once and stored only as a hash.
"""

from __future__ import annotations

import getpass

import orjson
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oncoliaison.accounts.services import api_client_create
from oncoliaison.core import audit
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.organisations.models import Organization


class Command(BaseCommand):
    help = "Register an API client (OAuth 2.0 client credentials) for an organisation and print its secret once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="The organisation's short name (slug).")
        parser.add_argument("--scopes", required=True,
                            help='SMART v2 system scopes, space-separated, e.g. "system/Patient.rs system/Consent.rs".')
        parser.add_argument("--name", default="", help="A label for the client, e.g. the system's name.")
        parser.add_argument("--base-url", default="",
                            help="Public base URL of this server (default: PUBLIC_BASE_URL or http://127.0.0.1:8000).")

    def handle(self, *args: object, **options: object) -> None:
        slug = str(options["organization"])
        org = Organization.objects.filter(slug=slug).first()
        if org is None:
            raise CommandError(f"No organisation with the short name '{slug}'. See: oncoliaison list-organizations")
        if not org.active:
            raise CommandError(f"The organisation '{slug}' is not active.")
        try:
            issued = api_client_create(organization=org, scopes=str(options["scopes"]), name=str(options["name"]))
        except ValidationFailed as exc:
            raise CommandError(exc.message) from exc
        operator = Actor(kind="system", username=f"cli:{_operator()}"[:150], client_organization_id=org.pk)
        audit.log(operator, AuditAction.ADMIN, category="api_client", resource_type="ApiClient",
                  resource_id=issued.client_id, detail=f"registered with scopes {issued.scopes}", channel="cli")
        base = str(options["base_url"] or settings.PUBLIC_BASE_URL or "http://127.0.0.1:8000").rstrip("/")
        self.stdout.write(orjson.dumps({
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
            "organization": issued.organization,
            "scopes": issued.scopes,
            "token_endpoint": f"{base}/fhir/auth/token",
        }).decode())


def _operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # pragma: no cover - no login name in some containers
        return "unknown"
