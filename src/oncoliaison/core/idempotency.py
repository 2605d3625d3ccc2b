"""Idempotent state changes: a replayed submission is recognised and changes nothing.

Every state-changing request may carry a key its sender chose once for it:

- page forms carry a hidden one-time key (``{% idempotency_key %}`` beside ``{% csrf_token %}``), so that
  pressing F5 or Back-and-resubmit after a POST, or a double click, replays instead of repeating;
- JSON API and FHIR clients send an ``Idempotency-Key`` header (draft-ietf-httpapi-idempotency-key-header).

The first request with a key inserts an :class:`~oncoliaison.core.models.IdempotencyRecord` (unique per
sender and key) *in the same transaction as the change it guards*, and stores the outcome there: the
redirect of a page, or the status, headers and JSON body of an API/FHIR answer.  So either both the change
and its record commit, or neither does; a concurrent duplicate waits on the unique index (PostgreSQL) or
the write lock (SQLite) and then finds the committed record.  A later request with the same key:

- and the same request (method, path, body): gets the original outcome (the page's redirect; the API's
  status, ``Location`` and body, with ``Idempotent-Replayed: true``) and nothing changes;
- and a different request: is refused (422, :class:`IdempotencyKeyReused`) and nothing changes.

Failed attempts (4xx/5xx, exceptions) keep no record: the sender may correct and retry with the same key.
Records expire after ``IDEMPOTENCY_RETENTION_HOURS`` (default 24); ``oncoliaison run-scheduled-jobs``
deletes expired ones (they hold the API's answer, which can carry patient data).

Doors: pages through :class:`IdempotencyMiddleware` (``core.middleware``), the JSON API through
:func:`install_api` (ninja decorators), FHIR through :func:`run_once` in ``fhir.views``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase

from . import clock
from .errors import DomainError
from .models import IdempotencyRecord
from .schedule import scheduled_job

FORM_FIELD = "idempotency_key"
HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_KEY = re.compile(r"^[A-Za-z0-9_\-:.]{8,128}$")
# Headers of an answer that a replay repeats (the body's type, where the result lives, its version).
_KEPT_HEADERS = ("Content-Type", "Location", "Content-Location", "ETag", "Last-Modified", "HX-Redirect",
                 "HX-Location", "HX-Trigger", "HX-Retarget", "HX-Reswap")


class InvalidIdempotencyKey(DomainError):
    status = 400
    code = "invalid"


class IdempotencyKeyReused(DomainError):
    """The key was already used for a different request."""

    status = 422
    code = "processing"

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message, field_errors={HEADER: [message]})
        self.location = location


def new_key() -> str:
    """A fresh one-time key (192 random bits)."""
    return secrets.token_urlsafe(24)


def checked_key(raw: str) -> str:
    key = raw.strip()
    if not _KEY.match(key):
        raise InvalidIdempotencyKey(
            f"{HEADER} must be 8 to 128 characters: letters, digits, '-', '_', ':' or '.'.",
            field_errors={HEADER: ["8 to 128 characters: letters, digits, '-', '_', ':' or '.'."]},
        )
    return key


def owner_for(*, user_id: int | None = None, client_id: str = "") -> str:
    """Whose keys these are: an API client, a signed-in person, or an anonymous sender (public forms)."""
    if client_id:
        return f"client:{client_id}"[:100]
    if user_id is not None:
        return f"user:{user_id}"
    return "anon"


def owner_of_actor(actor: Any) -> str:
    return owner_for(user_id=getattr(actor, "user_id", None), client_id=getattr(actor, "client_id", "") or "")


def fingerprint(method: str, path: str, parts: Iterable[bytes]) -> str:
    """HMAC-SHA256 of the request (keyed, so that the stored value reveals nothing about the body)."""
    mac = hmac.new(hashlib.sha256(b"oncoliaison-idempotency:" + settings.SECRET_KEY.encode()).digest(),
                   digestmod=hashlib.sha256)
    for part in (method.encode(), path.encode(), *parts):
        mac.update(len(part).to_bytes(8, "big"))
        mac.update(part)
    return mac.hexdigest()


def raw_fingerprint(request: HttpRequest) -> str:
    """API and FHIR: the method, path, query, body type and body bytes."""
    return fingerprint(request.method or "", request.path, [
        request.META.get("QUERY_STRING", "").encode(), (request.content_type or "").encode(), request.body,
    ])


def retention() -> dt.timedelta:
    return dt.timedelta(hours=settings.IDEMPOTENCY_RETENTION_HOURS)


# --- the mechanism ------------------------------------------------------------------------------------


def keep_success(response: HttpResponseBase) -> bool:
    """API and FHIR: answers that changed something (2xx) are kept for the replay."""
    return 200 <= response.status_code < 300


def keep_redirect(response: HttpResponseBase) -> bool:
    """Pages: only the redirect after a successful POST is kept (anything else changed nothing)."""
    return 300 <= response.status_code < 400 and bool(response.get("Location"))


@dataclass
class KeyedRequest:
    """One request carrying a key: claim it (after the sender is known), run it, then finish it, all in
    one transaction opened by the caller (see :func:`run_once`)."""

    key: str
    fingerprint: str
    method: str
    path: str
    keep: Callable[[HttpResponseBase], bool] = keep_success
    keep_body: bool = True
    record: IdempotencyRecord | None = None

    def claim(self, owner: str) -> IdempotencyRecord | None:
        """None: this is the first time (a record is held for it).  A record: the stored outcome to replay.
        Raises :class:`IdempotencyKeyReused` when the key was used for a different request."""
        now = clock.now()
        try:
            with transaction.atomic():
                self.record = IdempotencyRecord.objects.create(
                    owner=owner, key=self.key, fingerprint=self.fingerprint, method=self.method,
                    path=self.path[:300], status=0, created_at=now,
                )
            return None
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.get(owner=owner, key=self.key)
        if existing.created_at < now - retention():  # expired: the key starts afresh
            existing.delete()
            return self.claim(owner)
        if existing.fingerprint != self.fingerprint:
            raise IdempotencyKeyReused(
                "This key was already used for a different request, which was carried out and is kept. "
                "Send a new request with a new key.", location=existing.location,
            )
        return existing

    def finish(self, response: HttpResponseBase) -> None:
        record = self.record
        if record is None:
            return
        if not self.keep(response):
            self.abandon()
            return
        record.status = response.status_code
        record.location = str(response.get("Location", ""))[:500]
        record.headers = {h: str(response[h]) for h in _KEPT_HEADERS if response.has_header(h)}
        if self.keep_body and isinstance(response, HttpResponse):
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
            record.body = bytes(response.content)
        record.save(update_fields=["status", "location", "headers", "body"])

    def abandon(self) -> None:
        if self.record is not None and self.record.pk is not None:
            self.record.delete()
        self.record = None


def _finish(keyed: KeyedRequest, response: HttpResponseBase) -> None:
    """Store the outcome; if the request broke the transaction (a database error answered as a 500), roll
    it all back instead: nothing was changed, so nothing is kept."""
    try:
        with transaction.atomic():
            keyed.finish(response)
    except DatabaseError:
        transaction.set_rollback(True)


def replay_response(record: IdempotencyRecord, *, page: bool = False) -> HttpResponseBase:
    """The stored outcome again: a page's redirect (303, so the browser GETs the result), or the API's
    status, headers and body."""
    if page and record.location:
        response: HttpResponseBase = HttpResponseRedirect(record.location, status=303)
    else:
        response = HttpResponse(bytes(record.body), status=record.status)
        for name, value in (record.headers or {}).items():
            response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def run_once(keyed: KeyedRequest, owner: str, call: Callable[[], HttpResponseBase], *,
             page: bool = False) -> HttpResponseBase:
    """Run ``call`` at most once per (owner, key): the change and its record commit together.

    An exception from ``call`` keeps no record; what the request wrote before failing (e.g. an
    access-denied audit row) still commits, exactly as without a key, unless the transaction broke."""
    pending: BaseException | None = None
    with transaction.atomic():
        stored = keyed.claim(owner)
        if stored is not None:
            return replay_response(stored, page=page)
        try:
            response = call()
        except BaseException as exc:
            try:
                with transaction.atomic():
                    keyed.abandon()
            except DatabaseError:
                raise exc from None  # the transaction is broken: roll everything back
            pending = exc
        else:
            _finish(keyed, response)
    if pending is not None:
        raise pending
    return response


def purge_expired(now: dt.datetime | None = None) -> int:
    """Delete records older than the retention (they may hold an API answer with patient data)."""
    cutoff = (now or clock.now()) - retention()
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


@scheduled_job("idempotency keys")
def purge_expired_job(now: dt.datetime) -> str:
    return f"expired idempotency keys forgotten: {purge_expired(now)}"


# --- the JSON API door ----------------------------------------------------------------------------------


def install_api(api: Any) -> None:
    """Honour ``Idempotency-Key`` on every unsafe JSON API operation.

    Two ninja decorators: around the whole operation (``view`` mode: a transaction, then the outcome is
    stored) and around the handler (``operation`` mode: after authentication, so the key belongs to the
    authenticated client or person; a replay answers the stored response without running the handler)."""
    import functools

    def around_run(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(run)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            raw = request.headers.get(HEADER)
            if raw is None or request.method not in UNSAFE_METHODS:
                return run(request, *args, **kwargs)
            try:
                key = checked_key(raw)
            except InvalidIdempotencyKey as exc:
                request._idempotency_error = exc  # type: ignore[attr-defined]  # our own request attribute
                return run(request, *args, **kwargs)  # answered in the API's error shape below
            keyed = KeyedRequest(key, raw_fingerprint(request), request.method or "", request.path)
            request._idempotency = keyed  # type: ignore[attr-defined]  # our own request attribute
            with transaction.atomic():
                response = run(request, *args, **kwargs)
                _finish(keyed, response)
            return response

        return wrapped

    def around_handler(handler: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(handler)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            error = getattr(request, "_idempotency_error", None)
            if error is not None:
                raise error
            keyed: KeyedRequest | None = getattr(request, "_idempotency", None)
            if keyed is None:
                return handler(request, *args, **kwargs)
            stored = keyed.claim(owner_of_actor(getattr(request, "auth", None)))
            if stored is not None:
                return replay_response(stored)
            return handler(request, *args, **kwargs)

        return wrapped

    api.add_decorator(around_run, mode="view")
    api.add_decorator(around_handler, mode="operation")

