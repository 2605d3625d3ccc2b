"""The FHIR routes alone, mounted as the project mounts them, so these tests do not depend on other apps'
pages."""

from django.urls import include, path

urlpatterns = [path("fhir", include("oncoliaison.fhir.urls"))]
