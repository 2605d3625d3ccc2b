"""oncoliaison revoke-api-client CLIENT_ID: switch an API client off and revoke every token it holds.

    oncoliaison revoke-api-client olc_0123456789abcdef01234567

Prints {"client_id", "revoked_at", "organization"} as JSON.  ``oncoliaison revoke-api-client --list`` lists
every client with its organisation, status and last use.
"""

from __future__ import annotations

import orjson
from django.core.management.base import BaseCommand, CommandError, CommandParser

from oncoliaison.accounts.models import ApiClient
from oncoliaison.accounts.services import api_client_revoke
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound

from .create_api_client import _operator


class Command(BaseCommand):
    help = "Revoke an API client (and all its tokens) at once; --list shows every client with its last use."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("client_id", nargs="?", default="", help="The client id (olc_...).")
        parser.add_argument("--list", action="store_true", help="List the clients instead.")

    def handle(self, *args: object, **options: object) -> None:
        if options["list"]:
            for c in ApiClient.objects.select_related("organization").order_by("organization__slug", "client_id"):
                self.stdout.write(orjson.dumps({
                    "client_id": c.client_id, "name": c.name, "organization": c.organization.slug,
                    "active": c.active, "last_used_at": c.last_used_at.isoformat() if c.last_used_at else None,
                    "revoked_at": c.revoked_at.isoformat() if c.revoked_at else None,
                }).decode())
            return
        client_id = str(options["client_id"])
        if not client_id:
            raise CommandError("Name the client id to revoke (see: oncoliaison revoke-api-client --list).")
        operator = Actor(kind="system", username=f"cli:{_operator()}"[:150])
        try:
            client = api_client_revoke(actor=operator, client_id=client_id, channel="cli")
        except NotFound:
            raise CommandError(f"No API client with the id '{client_id}'.") from None
        self.stdout.write(orjson.dumps({
            "client_id": client.client_id, "organization": client.organization.slug,
            "revoked_at": client.revoked_at.isoformat() if client.revoked_at else None,
        }).decode())
