"""The JSON API (django-ninja): one NinjaAPI, routers contributed by each domain's api.py."""

from __future__ import annotations

from ninja import NinjaAPI

api = NinjaAPI(title="OncoLiaison API", version="1", urls_namespace="api")
