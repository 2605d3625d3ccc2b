"""Bearer tokens checked without a database round trip on most requests, revocation honoured at once.

Each server process remembers, for a verified token (keyed by its SHA-256, never the token itself), what
the database said about it: the client, its organisation, the scopes and the expiry time.  A remembered
token is used until the first of:

- its expiry time (checked on every request, as the database query did);
- ``API_TOKEN_CACHE_SECONDS`` (default 60) after it was read: then the database is asked again, which also
  notices a client or organisation switched off by any other means and keeps ``last_used_at`` to the minute;
- a **revocation**: every revoking service (RFC 7009 revocation, switching a client off) rewrites the
  revocation generation file ``TOKEN_REVOCATION_FILE`` when its transaction commits, before it answers.
  Every process reads that small file on every request (one ``read`` of a few bytes, no database) and
  forgets everything it remembered when its content changed, so a revoked token is refused on the very
  next request by every worker that shares the file.

All application servers must share the revocation file (the same host, or a shared volume); a deployment
whose servers cannot share a file sets ``API_TOKEN_CACHE_SECONDS=0`` and every request asks the database.
The generation is read before the database is asked and the answer is remembered under that generation
only, so a revocation that commits while a request is verifying its token is never lost.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from oncoliaison.core.files import private_dir, write_private_text
from oncoliaison.core.scopes import ScopeSet


@dataclass(frozen=True)
class TokenClaims:
    """What the database said about a live token: enough to build its actor."""

    client_id: str
    organization_id: int | None  # None when the client's organisation is inactive
    organization_kind: str
    scopes: ScopeSet
    expires_at: dt.datetime


class TokenCache:
    """One process's remembered tokens.  Tests make a second one to stand for another process."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[TokenClaims, float]] = {}
        self._generation: bytes | None = None
        self._lock = threading.Lock()

    @staticmethod
    def _path() -> Path:
        return Path(settings.TOKEN_REVOCATION_FILE)

    def generation(self) -> bytes:
        """The revocation generation now (the file's content; empty before the first revocation).  Reading
        it forgets every remembered token if it changed since the last read."""
        try:
            with open(self._path(), "rb") as f:
                current = f.read(64)
        except FileNotFoundError:
            current = b""
        if current != self._generation:
            with self._lock:
                self._entries.clear()
                self._generation = current
        return current

    def get(self, token_hash: str) -> TokenClaims | None:
        ttl = settings.API_TOKEN_CACHE_SECONDS
        if ttl <= 0:
            return None
        self.generation()
        entry = self._entries.get(token_hash)
        if entry is None or time.monotonic() - entry[1] >= ttl:
            return None
        return entry[0]

    def put(self, token_hash: str, claims: TokenClaims, generation: bytes) -> None:
        """Remember ``claims`` read from the database after ``generation`` was read; nothing is remembered
        if a revocation happened meanwhile."""
        if settings.API_TOKEN_CACHE_SECONDS <= 0:
            return
        with self._lock:
            if generation == self._generation:
                self._entries[token_hash] = (claims, time.monotonic())

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._generation = None


tokens_verified = TokenCache()


def revocation_announce() -> None:
    """A token or client was revoked (call when the revocation has committed): every process forgets its
    remembered tokens before its next request."""
    path = Path(settings.TOKEN_REVOCATION_FILE)
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    write_private_text(tmp, f"{time.time_ns()}-{secrets.token_hex(8)}")
    os.replace(tmp, path)
    tokens_verified.clear()
