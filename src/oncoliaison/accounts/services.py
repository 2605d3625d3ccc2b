"""Who is asking (actors), API clients and tokens, TOTP second factor, practitioner records."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass

import pyotp
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet

from oncoliaison.core import audit, clock, crypto, throttle
from oncoliaison.core.actor import ANONYMOUS, Actor, actor_kind
from oncoliaison.core.errors import Conflict, Forbidden, PreconditionFailed, Unauthenticated, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.core.scopes import ScopeError, ScopeSet
from oncoliaison.organisations.models import Membership, Organization
from oncoliaison.patients.models import EmergencyAccess

from .models import ApiClient, ApiToken, MfaDevice, User, UserKind
from .token_cache import TokenClaims, revocation_announce, tokens_verified

# --- actors -------------------------------------------------------------------------------------


def actor_for_user(user: User | None, *, source_address: str = "") -> Actor:
    if user is None or not user.is_authenticated or not user.is_active:
        return Actor(kind="anonymous", source_address=source_address)
    memberships: tuple[tuple[int, str, str], ...] = ()
    own_patient_id = None
    emergency: tuple[tuple[int, int], ...] = ()
    if user.kind == UserKind.STAFF:
        memberships = tuple(
            Membership.objects.filter(user=user, active=True, organization__active=True)
            .order_by("id")
            .values_list("organization_id", "role", "organization__kind")
        )
        emergency = emergency_access_in_force(user.pk)
    elif user.kind == UserKind.PATIENT:
        own_patient_id = getattr(getattr(user, "patient_record", None), "pk", None)
    return Actor(
        kind=actor_kind(user.kind),
        user_id=user.pk,
        username=user.username,
        memberships=memberships,
        own_patient_id=own_patient_id,
        source_address=source_address,
        platform_admin=bool(user.is_superuser and user.kind == UserKind.STAFF),
        emergency_access=emergency,
    )


def emergency_access_in_force(user_id: int) -> tuple[tuple[int, int], ...]:
    """(patient_id, access id) of the person's break-glass sessions that have neither ended nor expired."""
    return tuple(
        EmergencyAccess.objects.filter(user_id=user_id, ended_at__isnull=True, expires_at__gt=clock.now())
        .order_by("pk").values_list("patient_id", "pk")
    )


def system_actor(*, organization_id: int | None, client_id: str, scopes: ScopeSet | None,
                 username: str = "", source_address: str = "") -> Actor:
    """An API client (or a job acting for one) bound to an organisation, with the organisation's kind,
    which ``clinical_organization_ids`` reads; an inactive or missing organisation gives no access."""
    org = Organization.objects.filter(pk=organization_id, active=True).values_list("pk", "kind").first() \
        if organization_id else None
    return Actor(
        kind="system",
        username=username or f"client:{client_id}",
        client_id=client_id,
        client_organization_id=org[0] if org else None,
        memberships=((org[0], "system", org[1]),) if org else (),
        scopes=scopes,
        source_address=source_address,
    )


def actor_for_bearer(raw_token: str, *, source_address: str = "") -> Actor:
    """The system actor of a live bearer token, or Unauthenticated.  A token verified recently is checked
    without the database (``token_cache``: its expiry on every request, revocations at once)."""
    now = clock.now()
    token_hash = ApiToken.hash(raw_token)
    claims = tokens_verified.get(token_hash)
    if claims is None:
        generation = tokens_verified.generation()
        claims = _token_claims(token_hash, now)
        tokens_verified.put(token_hash, claims, generation)
    elif claims.expires_at <= now:
        raise Unauthenticated("The access token is invalid, revoked or has expired.")
    org_id = claims.organization_id
    return Actor(
        kind="system",
        username=f"client:{claims.client_id}",
        client_id=claims.client_id,
        client_organization_id=org_id,
        memberships=((org_id, "system", claims.organization_kind),) if org_id is not None else (),
        scopes=claims.scopes,
        source_address=source_address,
    )


def _token_claims(token_hash: str, now: dt.datetime) -> TokenClaims:
    token = (
        ApiToken.objects.select_related("client", "client__organization")
        .filter(token_hash=token_hash, expires_at__gt=now, revoked_at__isnull=True, client__active=True)
        .first()
    )
    if token is None:
        raise Unauthenticated("The access token is invalid, revoked or has expired.")
    _note_use(token.client, now)
    org = token.client.organization
    return TokenClaims(client_id=token.client.client_id, organization_id=org.pk if org.active else None,
                       organization_kind=org.kind, scopes=ScopeSet.parse(token.scopes), expires_at=token.expires_at)


# --- API clients and tokens ----------------------------------------------------------------------


def _note_use(client: ApiClient, now: dt.datetime) -> None:
    """Remember when a client was last used, at most one write a minute (a conditional UPDATE)."""
    if client.last_used_at is None or now - client.last_used_at >= dt.timedelta(minutes=1):
        ApiClient.objects.filter(pk=client.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - dt.timedelta(minutes=1))
        ).update(last_used_at=now)


@dataclass(frozen=True)
class IssuedClient:
    client_id: str
    client_secret: str
    organization: str
    scopes: str


def api_client_create(*, organization: Organization, scopes: str, name: str = "") -> IssuedClient:
    """Register a confidential client for an organisation.  The secret is shown once, stored hashed."""
    try:
        parsed = ScopeSet.parse(scopes)
    except ScopeError as exc:
        raise ValidationFailed(str(exc)) from exc
    if not parsed.grants:
        raise ValidationFailed("Give at least one scope, e.g. system/Patient.rs")
    client_id = "olc_" + secrets.token_hex(12)
    secret = secrets.token_urlsafe(32)
    ApiClient.objects.create(
        client_id=client_id,
        secret_hash=make_password(secret),
        name=name or f"{organization.name} system client",
        organization=organization,
        scopes=str(parsed),
    )
    return IssuedClient(client_id, secret, organization.slug, str(parsed))


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.error, self.description, self.status, self.retry_after = error, description, status, retry_after


def _token_throttle(client_id: str, source_address: str) -> None:
    """Per client id and per address, before any hashing (each check costs a password hash and a row).

    Counted in the database (``core.throttle``), so the limit holds across workers and servers.  The first
    refused attempt of a window writes one audit row with the window's counts; the rest write none."""
    window = settings.TOKEN_THROTTLE_WINDOW_SECONDS
    for scope, key, limit in (("token-client", client_id[:64], settings.TOKEN_REQUESTS_PER_CLIENT),
                              ("token-address", source_address, settings.TOKEN_REQUESTS_PER_ADDRESS)):
        counted = throttle.hit(scope, key, window_seconds=window)
        if counted.count > limit:
            if counted.count == limit + 1:
                audit.log(_token_requester(client_id, source_address), AuditAction.LOGIN_FAILED,
                          category="authentication", outcome="denied", channel="fhir",
                          detail=f"token requests throttled ({scope.split('-')[1]}): {counted.count - 1} requests, "
                                 f"{counted.failures} failed, in {window} s")
            raise OAuthError("temporarily_unavailable",
                             f"Too many token requests; try again in {counted.retry_after()} seconds.", 429,
                             retry_after=counted.retry_after())


def _token_requester(client_id: str, source_address: str) -> Actor:
    return Actor(kind="system", username=f"client:{client_id[:40]}", source_address=source_address)


def _token_failed(client_id: str, source_address: str) -> None:
    """A failed client authentication: one audit row for the first failure of the client id's window; later
    failures are counted (and reported in the throttle row) rather than each writing a row."""
    counted = throttle.record_failure("token-client", client_id[:64],
                                      window_seconds=settings.TOKEN_THROTTLE_WINDOW_SECONDS)
    if counted.failures <= 1:
        audit.log(_token_requester(client_id, source_address), AuditAction.LOGIN_FAILED, category="authentication",
                  outcome="denied", channel="fhir",
                  detail="client authentication failed (later failures in this window are counted, not listed)")


def token_issue(*, client_id: str, client_secret: str, requested_scope: str = "", source_address: str = "") -> IssuedToken:
    """OAuth 2.0 client-credentials grant (RFC 6749 §4.4)."""
    _token_throttle(client_id, source_address)
    client = ApiClient.objects.select_related("organization").filter(client_id=client_id, active=True).first()
    # Hash even when the client is unknown so that timing does not tell which ids exist.
    ok = check_password(client_secret, client.secret_hash if client else make_password(None))
    if client is None or not ok or not client.organization.active:
        _token_failed(client_id, source_address)
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    granted = ScopeSet.parse(client.scopes)
    if requested_scope.strip():
        try:
            requested = ScopeSet.parse(requested_scope)
        except ScopeError as exc:
            raise OAuthError("invalid_scope", str(exc)) from exc
        scope = granted.narrowed_to(requested)
        if not scope.grants:
            raise OAuthError("invalid_scope", "None of the requested scopes is granted to this client.")
    else:
        scope = granted
    raw = secrets.token_urlsafe(32)
    lifetime = settings.API_TOKEN_LIFETIME_SECONDS
    _note_use(client, clock.now())
    ApiToken.objects.create(
        token_hash=ApiToken.hash(raw), client=client, scopes=str(scope),
        expires_at=clock.now() + dt.timedelta(seconds=lifetime),
    )
    audit.log(
        Actor(kind="system", username=f"client:{client.client_id}", client_id=client.client_id,
              client_organization_id=client.organization_id, source_address=source_address),
        AuditAction.LOGIN, category="authentication", detail="token issued", channel="fhir",
    )
    return IssuedToken(raw, lifetime, str(scope))


def token_revoke(*, client_id: str, client_secret: str, token: str, source_address: str = "") -> None:
    """RFC 7009 token revocation: an authenticated client revokes one of its own access tokens.

    An unknown, expired or someone else's token is answered like a revoked one (§2.2: no oracle); a wrong
    client secret is ``invalid_client``.  Throttled like the token endpoint."""
    _token_throttle(client_id, source_address)
    client = ApiClient.objects.filter(client_id=client_id, active=True).first()
    ok = check_password(client_secret, client.secret_hash if client else make_password(None))
    if client is None or not ok:
        _token_failed(client_id, source_address)
        raise OAuthError("invalid_client", "Client authentication failed.", 401)
    now = clock.now()
    with transaction.atomic():
        revoked = ApiToken.objects.filter(token_hash=ApiToken.hash(token), client=client,
                                          revoked_at__isnull=True, expires_at__gt=now).update(revoked_at=now)
        if revoked:
            tokens_verified.clear()  # this process at once; every process when the revocation commits
            transaction.on_commit(revocation_announce)
            audit.log(Actor(kind="system", username=f"client:{client.client_id}", client_id=client.client_id,
                            client_organization_id=client.organization_id, source_address=source_address),
                      AuditAction.LOGOUT, category="authentication", resource_type="ApiClient",
                      resource_id=client.client_id, detail="access token revoked (RFC 7009)", channel="fhir")


def api_client_revoke(*, actor: Actor, client_id: str, channel: str = "") -> ApiClient:
    """Switch a client off for good and revoke every token it holds.  Its organisation's administrator (or
    the operator at the command line, ``channel="cli"``) may; others get NotFound, as for an unknown id."""
    from oncoliaison.core.errors import NotFound

    with transaction.atomic():
        client = ApiClient.objects.select_for_update().filter(client_id=client_id).first()
        if client is None or (channel != "cli" and client.organization_id not in actor.admin_organization_ids()):
            raise NotFound()
        now = clock.now()
        if client.active:
            client.active, client.revoked_at = False, now
            client.save(update_fields=["active", "revoked_at"])
        tokens = ApiToken.objects.filter(client=client, revoked_at__isnull=True, expires_at__gt=now).update(revoked_at=now)
        tokens_verified.clear()  # this process at once; every process when the revocation commits
        transaction.on_commit(revocation_announce)
        audit.log(actor, AuditAction.ADMIN, category="api_client", resource_type="ApiClient",
                  resource_id=client.client_id, detail=f"revoked with {tokens} live token(s)", channel=channel)
    return client


# --- TOTP second factor ------------------------------------------------------------------------------


def mfa_begin(user: User) -> tuple[str, str]:
    """Start (or restart) enrolment; returns (secret, otpauth URI) for the QR code."""
    secret = pyotp.random_base32()
    with transaction.atomic():
        MfaDevice.objects.update_or_create(
            user=user, defaults={"secret_encrypted": crypto.encrypt(secret), "confirmed": False, "last_used_step": 0}
        )
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=settings.MFA_ISSUER)
    return secret, uri


def _verify(device: MfaDevice, code: str) -> bool:
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(crypto.decrypt(device.secret_encrypted))
    now_step = int(clock.now().timestamp()) // 30
    for step in (now_step - 1, now_step, now_step + 1):  # one step of clock drift either way
        if step > device.last_used_step and hmac.compare_digest(totp.at(step * 30), code):
            device.last_used_step = step  # a code is accepted once (no replay)
            device.save(update_fields=["last_used_step", "confirmed"])
            return True
    return False


def mfa_confirm(user: User, code: str) -> bool:
    with transaction.atomic():
        device = MfaDevice.objects.select_for_update().filter(user=user).first()
        if device is None:
            return False
        device.confirmed = True
        ok = _verify(device, code)
        if not ok:
            device.confirmed = False
        return ok


def mfa_check(user: User, code: str) -> bool:
    with transaction.atomic():
        device = MfaDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        return bool(device and _verify(device, code))


def mfa_enabled(user: User) -> bool:
    return MfaDevice.objects.filter(user=user, confirmed=True).exists()



def mfa_disable(*, actor: Actor, user: User, password: str) -> bool:
    """Remove the user's authenticator after re-checking their password; False if the password is wrong."""
    if actor.user_id != user.pk:
        raise Forbidden("Only the account holder can turn off their second factor.")
    if not user.check_password(password):
        return False
    with transaction.atomic():
        MfaDevice.objects.filter(user=user).delete()
        audit.log(actor, AuditAction.ADMIN, category="authentication", resource_type="User", resource_id=user.pk,
                  detail="second factor turned off", channel="web")
    return True


def password_set(*, actor: Actor, user: User, new_password: str) -> None:
    """The account holder's new password (already checked against the password rules by the caller's form)."""
    if actor.user_id != user.pk:
        raise Forbidden("Only the account holder can change their password here.")
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        audit.log(actor, AuditAction.ADMIN, category="authentication", resource_type="User", resource_id=user.pk,
                  detail="password changed", channel="web")


def staff_password_issue(*, actor: Actor, user: User, channel: str = "") -> str:
    """Give a staff account a new random one-time password (shown once to the administrator)."""
    from oncoliaison.core.access import require_admin

    require_admin(actor)
    if user.kind != UserKind.STAFF:
        raise Forbidden("Only staff accounts are managed here.")
    shares_org = Membership.objects.filter(user=user, organization_id__in=actor.admin_organization_ids()).exists()
    if not shares_org and user.registered_by_id not in actor.admin_organization_ids():
        raise Forbidden("You may manage only the accounts of your own organisation.")
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        audit.log(actor, AuditAction.ADMIN, category="authentication", resource_type="User", resource_id=user.pk,
                  detail="one-time password issued", channel=channel)
    return password

# --- practitioners (staff records, also created over FHIR) --------------------------------------------


@dataclass
class PractitionerData:
    given_name: str
    family_name: str
    email: str = ""
    phone: str = ""
    npi: str = ""
    gender: str = ""
    active: bool = True


def _validate_practitioner(data: PractitionerData) -> None:
    errors: dict[str, list[str]] = {}
    if not data.family_name.strip():
        errors["family_name"] = ["Enter the family name."]
    if data.npi and not (data.npi.isdigit() and len(data.npi) == 10):
        errors["npi"] = ["An NPI is 10 digits."]
    if errors:
        raise ValidationFailed("The practitioner is not valid.", field_errors=errors)


def practitioner_create(*, actor: Actor, data: PractitionerData, channel: str = "") -> User:
    _validate_practitioner(data)
    if actor.kind not in {"staff", "system"} or not actor.organization_ids:
        raise Forbidden("Only member organisations can register practitioners.")
    if actor.is_system and not actor.allows("Practitioner", "c"):
        raise Forbidden("Token scope does not allow creating practitioners.")
    if not actor.is_system and not actor.admin_organization_ids():
        raise Forbidden("Registering practitioners needs the program administrator role.")
    base = f"{data.given_name[:1]}{data.family_name}".lower()
    username = "".join(ch for ch in base if ch.isalnum())[:30] or "practitioner"
    try:
        with transaction.atomic():
            candidate, n = username, 1
            while User.objects.filter(username=candidate).exists():
                n += 1
                candidate = f"{username}{n}"
            user = User(
                username=candidate, first_name=data.given_name.strip(), last_name=data.family_name.strip(),
                email=data.email, phone=data.phone, npi=data.npi, gender=data.gender, is_active=data.active,
                kind=UserKind.STAFF, registered_by_id=actor.primary_organization_id,
            )
            user.set_unusable_password()
            user.save()
            audit.log(actor, AuditAction.ADMIN, category="practitioner", resource_type="Practitioner",
                      resource_id=user.pk, detail="registered", channel=channel)
    except IntegrityError as exc:
        raise Conflict("A practitioner with this NPI is already registered.") from exc
    return user


def practitioner_update(
    *, actor: Actor, practitioner: User, data: PractitionerData, expected_version: int | None = None,
    channel: str = "",
) -> User:
    _validate_practitioner(data)
    if actor.is_system and not actor.allows("Practitioner", "u"):
        raise Forbidden("Token scope does not allow updating practitioners.")
    if not actor.is_system and not actor.admin_organization_ids() and actor.user_id != practitioner.pk:
        raise Forbidden("Updating practitioners needs the program administrator role.")
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=practitioner.pk)
            if expected_version is not None and expected_version != locked.version:
                raise PreconditionFailed(f"The practitioner was changed by someone else (version {locked.version}).")
            locked.first_name, locked.last_name = data.given_name.strip(), data.family_name.strip()
            locked.email, locked.phone, locked.npi, locked.gender = data.email, data.phone, data.npi, data.gender
            locked.is_active = data.active
            locked.version += 1
            locked.save()
            audit.log(actor, AuditAction.ADMIN, category="practitioner", resource_type="Practitioner",
                      resource_id=locked.pk, detail="updated", channel=channel)
    except IntegrityError as exc:
        raise Conflict("A practitioner with this NPI is already registered.") from exc
    return locked




def mfa_reset(*, actor: Actor, user: User, channel: str = "") -> None:
    """An administrator removes a staff member's authenticator (lost phone); they enrol again at next sign-in."""
    from oncoliaison.core.access import require_admin

    require_admin(actor)
    if user.kind != UserKind.STAFF or not Membership.objects.filter(
        user=user, organization_id__in=actor.admin_organization_ids()
    ).exists():
        raise Forbidden("You may manage only the accounts of your own organisation.")
    with transaction.atomic():
        MfaDevice.objects.filter(user=user).delete()
        audit.log(actor, AuditAction.ADMIN, category="authentication", resource_type="User", resource_id=user.pk,
                  detail="second factor reset by an administrator", channel=channel)

def staff_account_create(
    *, actor: Actor, organization_id: int, role: str, data: PractitionerData, title: str = "", channel: str = ""
) -> tuple[User, str]:
    """A new staff account with a role in the organisation and a one-time password, in one transaction."""
    from oncoliaison.core.access import require_admin
    from oncoliaison.organisations.services import MembershipData, membership_create

    require_admin(actor, organization_id)
    with transaction.atomic():
        user = practitioner_create(actor=actor, data=data, channel=channel)
        membership_create(
            actor=actor,
            data=MembershipData(user_id=user.pk, organization_id=organization_id, role=role, title=title),
            channel=channel,
        )
        password = staff_password_issue(actor=actor, user=user, channel=channel)
    return user, password

def practitioner_queryset_for(actor: Actor) -> QuerySet[User]:
    """Staff of the actor's organisations, those they registered, and care-team members of patients they see."""

    from oncoliaison.patients.models import CareTeamParticipant
    from oncoliaison.patients.selectors import care_team_queryset_for

    if actor.kind not in {"staff", "system"}:
        return User.objects.none()
    orgs = actor.organization_ids
    in_teams = CareTeamParticipant.objects.filter(care_team__in=care_team_queryset_for(actor).values("pk"))
    return User.objects.filter(kind=UserKind.STAFF).filter(
        Q(memberships__organization_id__in=orgs) | Q(registered_by_id__in=orgs) | Q(pk__in=in_teams.values("user_id"))
    ).distinct()


__all__ = ["ANONYMOUS"]
