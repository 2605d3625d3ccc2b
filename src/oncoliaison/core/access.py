"""Generic access helpers shared by the domain selectors."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

from .actor import Actor
from .errors import Forbidden, NotFound

M = TypeVar("M", bound=Model)


def get_visible_or_404(qs: QuerySet[M], pk: object) -> M:
    """The row of an actor-scoped queryset, or NotFound — the same for missing and not visible."""
    try:
        key = int(str(pk))
    except (TypeError, ValueError):
        raise NotFound() from None
    obj = qs.filter(pk=key).first()
    if obj is None:
        raise NotFound()
    return obj


def owner_patient_id(model: type[Model], pk: object, field: str = "patient_id") -> int | None:
    """The patient a stored record belongs to, looked up without the actor's scope — only for the audit
    row of a refused request (``audit.log_refused``), never for an answer.  None when there is no such
    record.  ``field``: the patient id's path from the record ("pk" for Patient itself)."""
    try:
        key = int(str(pk))
    except (TypeError, ValueError):
        return None
    if not 0 < key < 2**63:
        return None
    value = model._default_manager.filter(pk=key).values_list(field, flat=True).first()
    return int(value) if value is not None else None


def require_staff(actor: Actor) -> None:
    if actor.kind not in {"staff", "system"}:
        raise Forbidden("This is for staff of a member organisation.")


def require_admin(actor: Actor, organization_id: int | None = None) -> None:
    admin_orgs = actor.admin_organization_ids()
    if not admin_orgs or (organization_id is not None and organization_id not in admin_orgs):
        raise Forbidden("This needs the program administrator or CLP role for the organisation.")


def require_scope(actor: Actor, resource_type: str, letter: str) -> None:
    """A token must carry a SMART v2 scope for this kind of action on this resource type (``letter``: one of
    c r u d s); a person is limited by roles instead.  The one scope check of every door."""
    if not actor.allows(resource_type, letter):
        raise Forbidden(f"The access token's scopes do not allow '{letter}' on {resource_type} "
                        f"(needs system/{resource_type}.{letter}).")
