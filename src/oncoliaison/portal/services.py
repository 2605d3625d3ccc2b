"""Every write of the portal: invitations, accepting them, and the patient's support network.

Invitation e-mails say only that an invitation exists (no names, no diagnosis, no organisation) and are
sent after the transaction commits.  The raw token is shown once and never stored.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from oncoliaison.accounts.models import User, UserKind
from oncoliaison.accounts.services import actor_for_user
from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from oncoliaison.core.models import AuditAction
from oncoliaison.patients.models import Consent, ConsentKind, ConsentStatus, Patient, ProxyScope
from oncoliaison.patients.selectors import active_consents
from oncoliaison.patients.services import ConsentData, consent_create, consent_revoke

from . import notifications
from .models import InvitationKind, PortalInvitation
from .rules import CAREGIVER_INVITATIONS_PER_DAY, INVITATION_LIFETIME, invitation_usable

CATEGORY = "portal-account"
_USERNAME = re.compile(r"^[A-Za-z0-9.@+_-]{3,150}$")


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: PortalInvitation
    token: str  # shown once; only its hash is stored
    link: str


def _validate_email(email: str) -> str:
    email = email.strip()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationFailed(_("Enter a valid e-mail address."),
                               field_errors={"email": [_("Enter a valid e-mail address.")]}) from None
    return email


def _invitation_mail(email: str, link: str, language: str, kind: str) -> None:
    with translation.override(language):
        notice = notifications.invitation(link, kind)
    mail.send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [email])


def _issue(*, actor: Actor, patient: Patient, email: str, kind: str, consent: Consent | None,
           invitee: User | None, link_base: str, channel: str) -> IssuedInvitation:
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    with transaction.atomic():
        # One open invitation per person: a new one replaces the old link.
        open_ones = PortalInvitation.objects.filter(
            patient=patient, kind=kind, accepted_at__isnull=True, revoked_at__isnull=True
        )
        if consent is not None:
            open_ones = open_ones.filter(consent=consent)
        open_ones.update(revoked_at=now)
        invitation = PortalInvitation.objects.create(
            kind=kind, token_hash=PortalInvitation.hash(raw), patient=patient, email=email, consent=consent,
            invitee=invitee, created_by_id=actor.user_id, created_at=now, expires_at=now + INVITATION_LIFETIME,
        )
        audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type="PortalInvitation",
                  resource_id=invitation.pk, patient_id=patient.pk, channel=channel, detail=f"{kind} invitation")
        base = (link_base or settings.PUBLIC_BASE_URL).rstrip("/")
        link = base + reverse("portal:invite_accept", args=[raw])
        language = (patient.preferred_language or settings.LANGUAGE_CODE).split("-")[0]
        transaction.on_commit(lambda: _invitation_mail(email, link, language, kind))
    return IssuedInvitation(invitation, raw, link)


def invitation_create(
    *, actor: Actor, patient: Patient, email: str, kind: str = InvitationKind.PATIENT,
    consent: Consent | None = None, link_base: str = "", channel: str = "web",
) -> IssuedInvitation:
    """Invite a person to the portal.  ``patient`` must come from an access guard.

    Patients are invited by staff in a care role at the patient's own organisation; caregivers by the
    patient, for a caregiver-proxy consent they have granted (see ``caregiver_invite``).
    """
    email = _validate_email(email)
    if kind == InvitationKind.PATIENT:
        if actor.kind != "staff" or patient.organization_id not in actor.clinical_organization_ids:
            raise Forbidden(_("Patients are invited by the care staff of their own organisation."))
        if not patient.active or patient.deceased:
            raise ValidationFailed(_("Only active patients can be invited to the portal."))
        if patient.user_id is not None:
            raise Conflict(_("This patient already has a portal account."))
        return _issue(actor=actor, patient=patient, email=email, kind=kind, consent=None, invitee=None,
                      link_base=link_base, channel=channel)
    if kind == InvitationKind.CAREGIVER:
        if actor.kind != "patient" or actor.own_patient_id != patient.pk:
            raise Forbidden(_("Caregivers are invited by the patient, from their portal."))
        if (
            consent is None
            or consent.patient_id != patient.pk
            or consent.kind != ConsentKind.CAREGIVER_PROXY
            or not active_consents().filter(pk=consent.pk).exists()
        ):
            raise ValidationFailed(_("The caregiver's access has ended; grant it again to send a new invitation."))
        since = clock.now() - dt.timedelta(days=1)
        sent_today = PortalInvitation.objects.filter(patient=patient, kind=kind, created_at__gte=since).count()
        if sent_today >= CAREGIVER_INVITATIONS_PER_DAY:
            raise ValidationFailed(_("You have sent many invitations today. Please try again tomorrow, or ask your "
                                     "care team for help."))
        invitee = User.objects.filter(pk=consent.grantee_user_id or 0).first()
        if invitee is None or invitee.is_active:
            raise Conflict(_("This person has already set up their account."))
        return _issue(actor=actor, patient=patient, email=email, kind=kind, consent=consent, invitee=invitee,
                      link_base=link_base, channel=channel)
    raise ValidationFailed(_("Unknown kind of invitation."), field_errors={"kind": [_("Choose patient or caregiver.")]})


# --- accepting --------------------------------------------------------------------------------------


def invitation_for_token(token: str) -> PortalInvitation:
    """The invitation a link names if it can still be accepted, else NotFound (one answer for unknown,
    used, revoked and expired links, so the page discloses nothing)."""
    if not token or len(token) > 100:
        raise NotFound()
    invitation = (
        PortalInvitation.objects.select_related("patient", "consent", "invitee")
        .filter(token_hash=PortalInvitation.hash(token))
        .first()
    )
    if invitation is None or invitation_usable(
        expires_at=invitation.expires_at, accepted_at=invitation.accepted_at, revoked_at=invitation.revoked_at,
        now=clock.now(),
    ):
        raise NotFound()
    if invitation.kind == InvitationKind.CAREGIVER and not active_consents().filter(pk=invitation.consent_id or 0).exists():
        raise NotFound()
    if invitation.kind == InvitationKind.PATIENT and invitation.patient.user_id is not None:
        raise NotFound()
    return invitation


def invitation_accept(*, token: str, username: str, password: str, source_address: str = "") -> User:
    """Set up the account an invitation is for: the person's chosen user name and password (Django's
    password validators).  Single use; audited as the new account."""
    invitation = invitation_for_token(token)
    username = username.strip()
    errors: dict[str, list[str]] = {}
    if not _USERNAME.match(username):
        errors["username"] = [_("Use 3 or more letters, digits or . @ + - _ (no spaces).")]
    elif User.objects.filter(username__iexact=username).exclude(pk=invitation.invitee_id or 0).exists():
        errors["username"] = [_("That user name is taken. Choose another.")]
    if invitation.kind == InvitationKind.CAREGIVER:
        candidate = invitation.invitee
        assert candidate is not None
        candidate.username = username
    else:
        patient = invitation.patient
        candidate = User(username=username, first_name=patient.given_name, last_name=patient.family_name,
                         email=invitation.email, kind=UserKind.PATIENT)
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationFailed(_("The account could not be set up."), field_errors=errors)

    now = clock.now()
    try:
        return _accept(invitation, candidate, username, password, now, source_address)
    except IntegrityError:  # the user name was taken a moment ago
        raise ValidationFailed(_("The account could not be set up."),
                               field_errors={"username": [_("That user name is taken. Choose another.")]}) from None


def _accept(invitation: PortalInvitation, candidate: User, username: str, password: str, now: dt.datetime,
            source_address: str) -> User:
    with transaction.atomic():
        # Claim the invitation: a second use (even a concurrent one) finds it taken.
        claimed = PortalInvitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
        ).update(accepted_at=now)
        if not claimed:
            raise NotFound()
        if invitation.kind == InvitationKind.CAREGIVER:
            user = User.objects.select_for_update().get(pk=invitation.invitee_id or 0)
            if user.is_active:
                raise NotFound()
            user.username = username
            user.is_active = True
            user.set_password(password)
            user.save(update_fields=["username", "is_active", "password"])
        else:
            user = candidate
            user.set_password(password)
            user.save()
            linked = Patient.objects.filter(pk=invitation.patient_id, user__isnull=True).update(user=user)
            if not linked:
                raise Conflict(_("This patient already has a portal account."))
        PortalInvitation.objects.filter(pk=invitation.pk).update(accepted_user=user)
        new_actor = actor_for_user(user, source_address=source_address)
        audit.log(new_actor, AuditAction.CREATE, category=CATEGORY, resource_type="User", resource_id=user.pk,
                  patient_id=invitation.patient_id, channel="web",
                  detail=f"{invitation.kind} account set up from invitation {invitation.pk}")
    return user


# --- the patient's support network -------------------------------------------------------------------


@dataclass(frozen=True)
class CaregiverGrant:
    consent: Consent
    invitation: IssuedInvitation | None  # None when the person already had an account


def _existing_caregiver(email: str) -> User | None:
    return (
        User.objects.filter(kind=UserKind.CAREGIVER, is_active=True, email__iexact=email)
        .exclude(password__startswith="!")
        .order_by("id")
        .first()
    )


def _access_notice(email: str, link: str, language: str) -> None:
    with translation.override(language):
        notice = notifications.access_given(link)
    mail.send_mail(notice.subject, notice.body, settings.DEFAULT_FROM_EMAIL, [email])


def caregiver_invite(
    *, actor: Actor, patient: Patient, given_name: str, family_name: str, email: str, scope: str,
    link_base: str = "", channel: str = "web",
) -> CaregiverGrant:
    """The patient grants proxy access to a named person with a scope: a caregiver-proxy consent (active
    from now) and, when the person has no account yet, an invitation to set one up."""
    if actor.kind != "patient" or actor.own_patient_id != patient.pk:
        raise Forbidden(_("Only the patient can give access to their record."))
    errors: dict[str, list[str]] = {}
    if not given_name.strip():
        errors["given_name"] = [_("Enter the person's first name.")]
    if not family_name.strip():
        errors["family_name"] = [_("Enter the person's last name.")]
    if scope not in ProxyScope.values:
        errors["scope"] = [_("Choose what this person may do.")]
    try:
        email = _validate_email(email)
    except ValidationFailed as exc:
        errors.update(exc.field_errors)
    if errors:
        raise ValidationFailed(_("The access could not be given."), field_errors=errors)

    with transaction.atomic():
        existing = _existing_caregiver(email)
        if existing is not None and active_consents().filter(
            patient=patient, kind=ConsentKind.CAREGIVER_PROXY, grantee_user=existing
        ).exists():
            raise Conflict(_("This person already has access. To change what they may do, remove their access "
                             "and give it again."))
        if active_consents().filter(
            patient=patient, kind=ConsentKind.CAREGIVER_PROXY, grantee_user__is_active=False,
            grantee_user__email__iexact=email,
        ).exists():
            raise Conflict(_("You have already invited this person. If they did not get the e-mail, use "
                             "“Send a new link”."))
        grantee = existing
        if grantee is None:
            grantee = User(
                username=f"invited-{secrets.token_hex(8)}", first_name=given_name.strip()[:150],
                last_name=family_name.strip()[:150], email=email, kind=UserKind.CAREGIVER, is_active=False,
            )
            grantee.set_unusable_password()
            grantee.save()
        consent = consent_create(
            actor=actor, patient=patient, channel=channel,
            data=ConsentData(kind=ConsentKind.CAREGIVER_PROXY, status=ConsentStatus.ACTIVE,
                             grantee_user_id=grantee.pk, proxy_scope=scope, period_start=clock.today()),
        )
        issued = None
        if existing is None:
            issued = invitation_create(actor=actor, patient=patient, email=email, kind=InvitationKind.CAREGIVER,
                                       consent=consent, link_base=link_base, channel=channel)
        else:
            base = (link_base or settings.PUBLIC_BASE_URL).rstrip("/")
            link = base + reverse("portal:home")
            language = (patient.preferred_language or settings.LANGUAGE_CODE).split("-")[0]
            transaction.on_commit(lambda: _access_notice(email, link, language))
    return CaregiverGrant(consent, issued)


def caregiver_invitation_resend(*, actor: Actor, consent: Consent, link_base: str = "",
                                channel: str = "web") -> IssuedInvitation:
    """A new link (the old one stops working) for a caregiver who has not set up their account yet."""
    invitee = User.objects.filter(pk=consent.grantee_user_id or 0).first()
    email = invitee.email if invitee else ""
    return invitation_create(actor=actor, patient=consent.patient, email=email, kind=InvitationKind.CAREGIVER,
                             consent=consent, link_base=link_base, channel=channel)


def caregiver_revoke(*, actor: Actor, consent: Consent, channel: str = "web") -> Consent:
    """End a caregiver's proxy access at once; their open invitation stops working too."""
    if consent.kind != ConsentKind.CAREGIVER_PROXY:
        raise ValidationFailed(_("This is not a caregiver's access."))
    if actor.kind == "patient" and actor.own_patient_id != consent.patient_id:
        raise NotFound()
    with transaction.atomic():
        revoked = consent_revoke(actor=actor, consent=consent, channel=channel)
        PortalInvitation.objects.filter(consent=consent, accepted_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=clock.now()
        )
    return revoked
