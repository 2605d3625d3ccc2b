"""FHIR routes.  The project mounts this at ``path("fhir", ...)`` (no trailing slash: the FHIR base URL is
``/fhir``), so every pattern here starts with a slash, written ``[/]`` so that Django's check for
patterns beginning with "/" (urls.W002, aimed at ``include()`` mistakes) does not fire."""

from django.urls import re_path

from . import auth, bulk, everything, views

app_name = "fhir"

_TYPE = r"(?P<rtype>[A-Z][A-Za-z]+)"
_ID = r"(?P<pk>[A-Za-z0-9\-.]{1,64})"

urlpatterns = [
    re_path(r"^[/]metadata$", views.metadata, name="metadata"),
    re_path(r"^[/]\.well-known/smart-configuration$", auth.smart_configuration, name="smart-configuration"),
    re_path(r"^[/]auth/token$", auth.token, name="token"),
    re_path(r"^[/]auth/revoke$", auth.revoke, name="revoke"),
    re_path(r"^[/]\$export$", bulk.system_export, name="export"),
    re_path(r"^[/]Patient/\$export$", bulk.patient_export, name="patient-export"),
    re_path(rf"^[/]Group/{_ID}/\$export$", bulk.group_export, name="group-export"),
    re_path(r"^[/]bulkstatus/(?P<key>[A-Za-z0-9_\-]{20,64})$", bulk.export_status, name="export-status"),
    re_path(r"^[/]bulkfiles/(?P<key>[A-Za-z0-9_\-]{20,64})/(?P<name>[A-Za-z]{1,40}\.ndjson)$", bulk.export_file,
            name="export-file"),
    re_path(rf"^[/]Patient/{_ID}/\$everything$", everything.patient_everything, name="patient-everything"),
    re_path(rf"^[/]{_TYPE}/_search$", views.search_post, name="search"),
    re_path(rf"^[/]{_TYPE}/{_ID}$", views.instance, name="instance"),
    re_path(rf"^[/]{_TYPE}/?$", views.type_level, name="type"),
    re_path(r"^[/]?$", views.system_level, name="system"),
    re_path(r"^.*$", views.unknown, name="unknown"),
]
