"""Who is asking: a signed-in person or an API client, with organisations, roles and scopes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, cast

from .roles import ADMIN_ROLES, CARE_DELIVERING_KINDS, CLINICAL_ROLES, PATIENT_CARE_ROLES
from .scopes import ScopeSet

# Who is asking.  A Literal, so that every ``actor.kind == "..."`` in the code is checked by the type checker
# (strict equality): a misspelt kind fails the build instead of silently never matching.
ActorKind = Literal["staff", "patient", "caregiver", "system", "anonymous"]
ACTOR_KINDS: frozenset[str] = frozenset({"staff", "patient", "caregiver", "system", "anonymous"})


def actor_kind(value: str) -> ActorKind:
    """A stored user kind (accounts.User.kind, core.roles.UserKind) as an actor kind; ValueError otherwise."""
    if value not in ACTOR_KINDS:
        raise ValueError(f"Unknown actor kind: {value!r}")
    return cast(ActorKind, value)


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    user_id: int | None = None
    username: str = ""
    # (organization_id, role, organization_kind) for each active membership
    memberships: tuple[tuple[int, str, str], ...] = ()
    client_id: str | None = None
    client_organization_id: int | None = None
    scopes: ScopeSet | None = None  # None: a person signed in, limited by roles, not scopes
    own_patient_id: int | None = None
    source_address: str = ""
    # The operator of the whole installation (Django's superuser flag): network-wide configuration only,
    # such as which organisations route referrals.  Gives no patient access.
    platform_admin: bool = False
    # Break-glass sessions in force: (patient_id, emergency access id) — see patients.EmergencyAccess.
    emergency_access: tuple[tuple[int, int], ...] = ()
    _cache: dict[str, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    # --- organisations and roles -------------------------------------------------------------
    @property
    def is_authenticated(self) -> bool:
        return self.kind != "anonymous"

    @property
    def is_system(self) -> bool:
        return self.kind == "system"

    @property
    def organization_ids(self) -> frozenset[int]:
        if self.is_system:
            return frozenset({self.client_organization_id}) if self.client_organization_id else frozenset()
        return frozenset(org_id for org_id, _, _ in self.memberships)

    def roles_in(self, organization_id: int) -> frozenset[str]:
        return frozenset(role for org_id, role, _ in self.memberships if org_id == organization_id)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(role for _, role, _ in self.memberships)

    @property
    def clinical_organization_ids(self) -> frozenset[int]:
        """Organisations whose identified patient data this actor may see (the one place that decides it).

        Identified access is for organisations that treat patients (``CARE_DELIVERING_KINDS``), for people
        in a care role and for API clients alike: a research institution's or an advocacy group's client
        gets nothing here, whatever a data-sharing consent names.  Their data comes only through the
        data-use-agreement machinery (de-identified or as the agreement and consent allow)."""
        if self.is_system:
            if self.client_organization_id is None:
                return frozenset()
            return frozenset(
                org_id for org_id, _, org_kind in self.memberships
                if org_id == self.client_organization_id and org_kind in CARE_DELIVERING_KINDS
            )
        return frozenset(
            org_id
            for org_id, role, org_kind in self.memberships
            if role in CLINICAL_ROLES and org_kind in CARE_DELIVERING_KINDS
        )

    @property
    def patient_care_organization_ids(self) -> frozenset[int]:
        """Organisations whose patients' records this actor may open (``patients.selectors.patient_access_q``):
        ``clinical_organization_ids`` less those where the person only administers the program."""
        if self.is_system:
            return self.clinical_organization_ids
        return frozenset(
            org_id
            for org_id, role, org_kind in self.memberships
            if role in PATIENT_CARE_ROLES and org_kind in CARE_DELIVERING_KINDS
        )

    def admin_organization_ids(self) -> frozenset[int]:
        return frozenset(org_id for org_id, role, _ in self.memberships if role in ADMIN_ROLES)

    def is_admin_of(self, organization_id: int) -> bool:
        return organization_id in self.admin_organization_ids()

    @property
    def primary_role(self) -> str:
        if self.is_system:
            return "system"
        if self.memberships:
            return self.memberships[0][1]
        return self.kind

    @property
    def primary_organization_id(self) -> int | None:
        if self.is_system:
            return self.client_organization_id
        return self.memberships[0][0] if self.memberships else None

    @property
    def emergency_patient_ids(self) -> frozenset[int]:
        """Patients this person has opened by breaking the glass, while the access lasts."""
        return frozenset(pid for pid, _ in self.emergency_access)

    def emergency_access_id_for(self, patient_id: int | None) -> int | None:
        """The break-glass session in force for ``patient_id``, if any: what they do with this patient's
        data while it lasts is audited with its id."""
        if patient_id is None or not self.emergency_access:
            return None
        return next((aid for pid, aid in self.emergency_access if pid == patient_id), None)

    # --- scopes (systems only) ----------------------------------------------------------------
    def allows(self, resource_type: str, interaction: str) -> bool:
        """interaction: one of c r u d s (SMART v2)."""
        if self.scopes is None:
            return True
        return self.scopes.allows(resource_type, interaction)


ANONYMOUS = Actor(kind="anonymous")
