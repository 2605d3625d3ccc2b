"""The language of the pages a person meets: the one they chose with the switch (Django's language cookie),
else the preferred language on their patient record, else their browser's (Accept-Language), else English.

``PersonLanguageMiddleware`` applies it to every page patients, caregivers and the public see (the portal,
messages, their record, account pages, sign-in, the self-referral form, error pages), so no page falls back
to English because it lives outside the portal.  Staff pages stay in English: the clinical workspace is
not translated, and a half-translated staff page would be worse than an English one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers


def language_for(request: HttpRequest) -> str:
    available = {code for code, _ in settings.LANGUAGES}
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    if chosen in available:
        return chosen
    user = getattr(request, "user", None)
    record = getattr(user, "patient_record", None) if user is not None and user.is_authenticated else None
    preferred = (getattr(record, "preferred_language", "") or "").split("-")[0]
    if preferred in available:
        return preferred
    browser = translation.get_language_from_request(request, check_path=False).split("-")[0]
    return browser if browser in available else settings.LANGUAGE_CODE


def _is_staff(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated and getattr(user, "kind", "") == "staff")


class PersonLanguageMiddleware:
    """Renders each request in the person's language (after authentication, so it knows who asks)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = settings.LANGUAGE_CODE if _is_staff(request) else language_for(request)
        with translation.override(language):
            request.LANGUAGE_CODE = language
            response = self.get_response(request)
            if hasattr(response, "render") and not getattr(response, "is_rendered", True):
                response.render()
        response.headers.setdefault("Content-Language", language)
        patch_vary_headers(response, ("Cookie",))
        return response
