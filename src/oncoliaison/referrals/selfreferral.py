"""The public self-referral: a person refers themself to the cancer program through the open form
(``/refer/``), without an account — validated strictly, throttled per address, a honeypot for robots, and
recorded as a referral for the program's triage queue like any other."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from oncoliaison.core import audit, clock
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import DomainError, ValidationFailed
from oncoliaison.core.models import AuditAction, AuditOutcome
from oncoliaison.organisations.models import Organization, OrganizationKind

from .models import (
    Referral,
    ReferralKind,
    ReferralSource,
    ReferralStatus,
    RequestedService,
    SelfReferralAttempt,
    Urgency,
)
from .services import (
    CATEGORY,
    PERSON_NAME,
    PHONE,
    RESOURCE,
    audit_referral,
    field_error,
    history_add,
    lead_program_for,
    validate_birth_date,
)


@dataclass
class SelfReferralData:
    given_name: str
    family_name: str
    birth_date: dt.date | None
    concern: str
    referral_source: str
    phone: str = ""
    email: str = ""
    cancer_type_text: str = ""
    preferred_language: str = "en"
    consent_to_contact: bool = False


class SelfReferralOutcome(enum.Enum):
    """What happened to a public submission (the page tells a throttled person; a bot sees a confirmation)."""

    RECEIVED = "received"
    THROTTLED = "throttled"
    DISCARDED = "discarded"  # the honeypot was filled in


def _validate_self_referral(data: SelfReferralData) -> None:
    errors: dict[str, list[str]] = {}
    for name, missing, malformed in (
        ("given_name", _("Enter your first name."),
         _("Enter your first name using letters, spaces, hyphens or apostrophes.")),
        ("family_name", _("Enter your last name."),
         _("Enter your last name using letters, spaces, hyphens or apostrophes.")),
    ):
        value = getattr(data, name).strip()
        if not value:
            field_error(errors, name, missing)
        elif len(value) > 100 or not PERSON_NAME.match(value):
            field_error(errors, name, malformed)
    validate_birth_date(errors, data.birth_date)
    phone, email = data.phone.strip(), data.email.strip()
    if not phone and not email:
        field_error(errors, "phone", _("Give a telephone number or an e-mail address so that we can contact you."))
    if phone and not PHONE.match(phone):
        field_error(errors, "phone", _("Enter a telephone number of digits, spaces and + ( ) - only."))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            field_error(errors, "email", _("Enter a valid e-mail address, like name@example.com."))
    concern = data.concern.strip()
    if len(concern) < 10:
        field_error(errors, "concern", _("Tell us in a sentence or two how we can help."))
    elif len(concern) > 2000:
        field_error(errors, "concern", _("Keep your message under 2,000 characters; we will call you for the details."))
    if data.referral_source not in ReferralSource.values:
        field_error(errors, "referral_source", _("Tell us how you heard of the program."))
    if len(data.cancer_type_text) > 200:
        field_error(errors, "cancer_type_text", "Keep this under 200 characters.")
    if data.preferred_language not in dict(settings.LANGUAGES):
        field_error(errors, "preferred_language", "Choose a language from the list.")
    if not data.consent_to_contact:
        field_error(errors, "consent_to_contact", "We need your permission to contact you about your referral.")
    if errors:
        raise ValidationFailed("Please correct the highlighted fields.", field_errors=errors)


def _address_key(source_address: str) -> str:
    return salted_hmac("oncoliaison.referrals.self-referral-address", source_address or "unknown").hexdigest()


def self_referral_organization() -> Organization:
    """The program named by ``SELF_REFERRAL_ORGANIZATION``.  In production that setting is the only way:
    nothing an organisation or a token creates can redirect or switch off public self-referral.  Outside
    production (the embedded demo) an unset setting means the network's one lead program."""
    slug = getattr(settings, "SELF_REFERRAL_ORGANIZATION", "")
    if slug:
        org = Organization.objects.filter(slug=slug, kind=OrganizationKind.LEAD_PROGRAM, active=True).first()
    else:
        org = None if settings.PRODUCTION else lead_program_for(None)
    if org is None:
        raise DomainError("Self-referral is not available: no lead cancer program is configured to receive it.")
    return org


def self_referral_submit(*, data: SelfReferralData, source_address: str, honeypot: str = "") -> SelfReferralOutcome:
    """A person refers themselves through the public page.

    Input errors are reported (they concern only what was typed).  A throttled address is told plainly
    that the form was not accepted (THROTTLED; the page gives the program's telephone number), so a
    shared computer never loses a real request silently.  A filled-in honeypot gets the confirmation and
    is recorded nowhere but the audit log; nothing says whether this person is already known.
    """
    _validate_self_referral(data)
    actor = Actor(kind="anonymous", username="public self-referral", source_address=source_address)
    limit = int(getattr(settings, "SELF_REFERRAL_LIMIT_PER_HOUR", 5))
    org = self_referral_organization()
    with transaction.atomic():
        now = clock.now()
        window_start = now - dt.timedelta(hours=1)
        key = _address_key(source_address)
        SelfReferralAttempt.objects.filter(at__lt=window_start).delete()
        recent = SelfReferralAttempt.objects.filter(address_hash=key, at__gte=window_start).count()
        SelfReferralAttempt.objects.create(address_hash=key, at=now)
        if recent >= limit:
            audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type=RESOURCE,
                      outcome=AuditOutcome.DENIED, detail="self-referral refused: rate limit", channel="web")
            return SelfReferralOutcome.THROTTLED
        if honeypot.strip():
            audit.log(actor, AuditAction.CREATE, category=CATEGORY, resource_type=RESOURCE,
                      outcome=AuditOutcome.DENIED, detail="self-referral discarded: automated submission",
                      channel="web")
            return SelfReferralOutcome.DISCARDED
        referral = Referral.objects.create(
            kind=ReferralKind.SELF, status=ReferralStatus.RECEIVED, urgency=Urgency.ROUTINE,
            receiving_organization=org, given_name=data.given_name.strip(), family_name=data.family_name.strip(),
            birth_date=data.birth_date, phone=data.phone.strip(), email=data.email.strip(),
            preferred_language=data.preferred_language, reason=data.concern.strip(),
            cancer_type_text=data.cancer_type_text.strip(), referral_source=data.referral_source,
            requested_services=[RequestedService.NAVIGATION], received_at=now,
        )
        history_add(referral, actor, "", ReferralStatus.RECEIVED, "received", at=now)
        audit_referral(actor, AuditAction.CREATE, referral, "self-referral received", "web")
    return SelfReferralOutcome.RECEIVED
