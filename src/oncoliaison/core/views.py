"""The pages' kit: the health check and the page-side mapping of typed domain errors (NotFound -> 404 page,
Forbidden -> 403 page, field errors -> form fields), htmx helpers and the change announcement every inline
action sends.  The pages themselves live in their domain apps."""

from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Callable
from typing import Any, TypeVar

from django import forms
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, Forbidden, NotFound
from oncoliaison.core.refusals import audit_refused_request

PAGE_SIZE = 50
F = TypeVar("F", bound=Callable[..., HttpResponseBase])


# --- mapping typed errors on pages --------------------------------------------------------------


def maps_domain_errors(view: F) -> F:
    """NotFound becomes the 404 page and Forbidden the 403 page (with the role message only)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404() from None
        except Forbidden as exc:
            audit_refused_request(request, 403, exc.message, channel="web", actor=getattr(request, "actor", None))
            raise PermissionDenied(exc.message) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the view's signature


def login_required_htmx(view: F) -> F:
    """Like login_required, but an htmx request of an expired session reloads the whole page to sign-in
    (instead of the sign-in form being swapped into a fragment of the page)."""
    from django.contrib.auth.views import redirect_to_login

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(request.path)["Location"]
            return response
        return redirect_to_login(request.get_full_path())

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the view's signature


def form_error_from(form: forms.BaseForm, exc: DomainError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's field errors on the matching form fields; the rest on the form itself."""
    aliases = aliases or {}
    placed = False
    for name, messages in exc.field_errors.items():
        target = aliases.get(name, name)
        for message in messages:
            if target in form.fields:
                form.add_error(target, message)
            else:
                form.add_error(None, message)
            placed = True
    if not placed:
        form.add_error(None, exc.message)


def actor_of(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]  # set by SessionPolicyMiddleware


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


CHANGED_EVENT = "oncoliaison:changed"


def announce_change(response: HttpResponse, message: str, *, focus: str = "") -> HttpResponse:
    """Tell the page what an htmx action changed: ``message`` is read out by screen readers (the page's live
    region, ``static/js/live.js``) and keyboard focus moves to the element with id ``focus`` — by default the
    content the response swapped in.  Every inline action uses this, so no swap leaves focus on nothing."""
    response["HX-Trigger-After-Settle"] = json.dumps({CHANGED_EVENT: {"announce": message, "focus": focus}})
    return response


# --- CSV downloads of aggregate tables -------------------------------------------------------------


def spreadsheet_cell(text: str) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_download(header: list[str], rows: list[list[str]], filename: str) -> HttpResponse:
    """A small CSV file as an attachment, never cached (the pages' exports of aggregate tables)."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow([spreadsheet_cell(c) for c in row])
    response = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- health ---------------------------------------------------------------------------------------


@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return JsonResponse({"status": "ok", "database": "up"})


