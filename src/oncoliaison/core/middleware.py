"""Request context: the client address (for audit) without logging anything identifying."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render

from . import idempotency


def client_address(request: HttpRequest) -> str:
    """The address of the client as the outermost of our ``TRUSTED_PROXY_COUNT`` proxies saw it.

    Each proxy appends the address it received the request from to X-Forwarded-For, so only the last
    ``TRUSTED_PROXY_COUNT`` entries were written by us; anything to their left was written by the client
    and is ignored.  With no trusted proxy the connection's own address is used.  The one function used by
    the audit log, the self-referral and token throttles and the sign-in lock-out (AXES_CLIENT_IP_CALLABLE).
    """
    count = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0))
    if count > 0:
        hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
        if hops:
            # Fewer entries than proxies: every entry was written by one of ours; the leftmost is the client.
            return hops[-count if len(hops) >= count else 0][:64]
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.source_address = client_address(request)  # type: ignore[attr-defined]  # our own request attribute
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            # Pages and API answers may hold patient data: shared browsers and proxies must not keep them.
            response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


# --- idempotent form posts and post/redirect/get -------------------------------------------------------

_MACHINE_DOORS = ("/api/", "/fhir")


def _page_fingerprint(request: HttpRequest) -> str:
    """The form's fields (without the CSRF token and the key itself) and any uploaded files' content."""
    parts: list[bytes] = []
    for name in sorted(request.POST):
        if name in ("csrfmiddlewaretoken", idempotency.FORM_FIELD):
            continue
        for value in request.POST.getlist(name):
            parts += [name.encode(), value.encode()]
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            parts += [name.encode(), (upload.name or "").encode(), str(upload.size).encode(), digest.digest()]
    return idempotency.fingerprint("POST", request.path, parts)


class IdempotencyMiddleware:
    """Page forms: a POST carrying ``idempotency_key`` runs at most once per person and key; a replay (F5
    on a result reached by POST, Back and resubmit, a double click) is redirected to the first outcome.
    Only a redirect is kept: a form that answered with errors keeps no key, so the corrected form goes.

    With ``PRG_STRICT`` (the test settings), a form POST that answers 200 with a page fails loudly: every
    state-changing page must redirect after a successful POST (views that only search or sign in, and say
    so with ``core.prg.renders_on_post``, are exempt)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if settings.PRG_STRICT:
            _check_post_redirect_get(request, response)
        return response

    def process_view(self, request: HttpRequest, view_func: Callable[..., HttpResponseBase], view_args: Any,
                     view_kwargs: Any) -> HttpResponseBase | None:
        request._view_func = view_func  # type: ignore[attr-defined]  # our own request attribute
        if request.method != "POST" or request.path.startswith(_MACHINE_DOORS):
            return None
        if getattr(view_func, "csrf_exempt", False) and request.content_type == "multipart/form-data":
            # The view installs its own upload handlers before the body is read (messaging.uploads) and
            # calls form_post_once itself afterwards.
            return None
        return form_post_once(request, lambda: view_func(request, *view_args, **view_kwargs))


def form_post_once(request: HttpRequest, call: Callable[[], HttpResponseBase]) -> HttpResponseBase | None:
    """Run a page form's POST through the idempotency mechanism when it carries a key; None without one
    (the caller runs the view as usual)."""
    if getattr(request, "_idempotency_handled", False):
        return None  # already running under its key (the middleware, then a view's own call)
    if request.headers.get("HX-Request") == "true":
        # htmx swaps a fragment and leaves the form on the page: its next, deliberate submission would
        # reuse the key.  Neither F5 nor Back resends an htmx request; without JavaScript the same form
        # posts normally and is keyed.
        return None
    raw = request.POST.get(idempotency.FORM_FIELD)
    if raw is None:
        return None
    request._idempotency_handled = True  # type: ignore[attr-defined]  # our own request attribute
    try:
        key = idempotency.checked_key(raw)
    except idempotency.InvalidIdempotencyKey:
        return render(request, "core/already_sent.html", {"invalid": True}, status=400)
    keyed = idempotency.KeyedRequest(key, _page_fingerprint(request), "POST", request.path,
                                     keep=idempotency.keep_redirect, keep_body=False)
    user = request.user
    owner = idempotency.owner_for(user_id=user.pk if user.is_authenticated else None)
    try:
        return idempotency.run_once(keyed, owner, call, page=True)
    except idempotency.IdempotencyKeyReused as exc:
        return render(request, "core/already_sent.html", {"location": exc.location}, status=409)


def _check_post_redirect_get(request: HttpRequest, response: HttpResponseBase) -> None:
    if request.method != "POST" or request.path.startswith(_MACHINE_DOORS):
        return
    if request.headers.get("HX-Request") == "true" or response.status_code != 200:
        return
    if not str(response.get("Content-Type", "")).startswith("text/html"):
        return
    view = getattr(request, "_view_func", None)
    if view is None or getattr(view, "renders_on_post", False):
        return
    raise ImproperlyConfigured(
        f"POST {request.path} answered 200 with a page: a state-changing form must redirect after success "
        "(post/redirect/get) so that reloading the result does not submit it again; a form that only "
        "searches is marked @renders_on_post."
    )
