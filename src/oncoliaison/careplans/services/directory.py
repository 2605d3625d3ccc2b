"""Writes to the resource directory of an organisation (its administrators keep it): one transaction each,
audited inside it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from oncoliaison.assessments.rules import NEEDS
from oncoliaison.core import audit
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, PreconditionFailed, ValidationFailed
from oncoliaison.core.models import AuditAction

from .. import rules
from ..models import Resource, ResourceAudience, ResourceCategory, ResourceCost

_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass
class ResourceData:
    name: str
    category: str
    description: str = ""
    audience: str = ResourceAudience.BOTH
    needs: list[str] = field(default_factory=list)
    cancer_types: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=lambda: ["en"])
    eligibility: str = ""
    cost: str = ResourceCost.FREE
    cost_note: str = ""
    contact: str = ""
    phone: str = ""
    url: str = ""
    active: bool = True


def _validate_resource(data: ResourceData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.name.strip():
        errors["name"] = ["Name the resource."]
    if data.category not in ResourceCategory.values:
        errors["category"] = ["Choose a category."]
    if data.audience not in ResourceAudience.values:
        errors["audience"] = ["Choose the audience."]
    if data.cost not in ResourceCost.values:
        errors["cost"] = ["Choose the cost."]
    if bad := [n for n in data.needs if n not in NEEDS]:
        errors["needs"] = [f"Unknown need(s): {', '.join(bad)}."]
    if not data.needs:
        errors["needs"] = ["Choose at least one need this resource helps with."]
    if bad := [c for c in data.cancer_types if c not in rules.CANCER_TYPES]:
        errors["cancer_types"] = [f"Unknown cancer type(s): {', '.join(bad)}."]
    if bad := [lang for lang in data.languages if not _LANG.match(lang.strip().lower())]:
        errors["languages"] = [f"Use language codes such as en, es (not: {', '.join(bad)})."]
    if data.url and not data.url.startswith(("https://", "http://")):
        errors["url"] = ["Give a full web address starting with https://."]
    if errors:
        raise ValidationFailed("The resource is not valid.", field_errors=errors)


def _apply_resource(resource: Resource, data: ResourceData) -> None:
    for name in ("name", "category", "description", "audience", "eligibility", "cost", "cost_note", "contact",
                 "phone", "url", "active"):
        value = getattr(data, name)
        setattr(resource, name, value.strip() if isinstance(value, str) else value)
    resource.needs = list(dict.fromkeys(data.needs))
    resource.cancer_types = list(dict.fromkeys(data.cancer_types))
    resource.languages = list(dict.fromkeys(lang.strip().lower() for lang in data.languages))


def resource_create(*, actor: Actor, organization_id: int, data: ResourceData, channel: str = "web") -> Resource:
    require_admin(actor, organization_id)
    _validate_resource(data)
    try:
        with transaction.atomic():
            resource = Resource(organization_id=organization_id, created_by_id=actor.user_id)
            _apply_resource(resource, data)
            resource.save()
            audit.log(actor, AuditAction.ADMIN, category="resource_directory", resource_type="HealthcareService",
                      resource_id=resource.pk, detail="created", channel=channel)
    except IntegrityError as exc:
        raise Conflict("The directory already has a resource with this name.") from exc
    return resource


def resource_update(*, actor: Actor, resource: Resource, data: ResourceData, expected_version: int | None = None,
                    channel: str = "web") -> Resource:
    require_admin(actor, resource.organization_id)
    _validate_resource(data)
    try:
        with transaction.atomic():
            locked = Resource.objects.select_for_update().get(pk=resource.pk)
            if expected_version is not None and expected_version != locked.version:
                raise PreconditionFailed(f"Someone else changed this in the meantime (version {locked.version}, "
                                         f"yours {expected_version}). Reload and try again.")
            _apply_resource(locked, data)
            locked.version += 1
            locked.save()
            audit.log(actor, AuditAction.ADMIN, category="resource_directory", resource_type="HealthcareService",
                      resource_id=locked.pk, detail="updated", channel=channel)
    except IntegrityError as exc:
        raise Conflict("The directory already has a resource with this name.") from exc
    return locked
