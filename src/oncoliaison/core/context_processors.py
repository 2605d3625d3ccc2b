from __future__ import annotations

from django.http import HttpRequest


def actor(request: HttpRequest) -> dict[str, object]:
    return {"actor": getattr(request, "actor", None)}
