"""The portal speaks the person's language where a translation exists: the language they chose with the
switch (Django's language cookie), else the preferred language on their patient record, else English."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

F = TypeVar("F", bound=Callable[..., HttpResponse])


def language_for(request: HttpRequest) -> str:
    available = {code for code, _ in settings.LANGUAGES}
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in available:
        return chosen
    user = getattr(request, "user", None)
    record = getattr(user, "patient_record", None) if user is not None and user.is_authenticated else None
    preferred = (getattr(record, "preferred_language", "") or "").split("-")[0]
    return preferred if preferred in available else settings.LANGUAGE_CODE


def in_portal_language(view: F) -> F:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        language = language_for(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
            response = view(request, *args, **kwargs)
        response.headers.setdefault("Content-Language", language)
        return response

    return wrapper  # type: ignore[return-value]
