"""Sign-in lock-out policy.

Two limits, so that nobody can lock a colleague out from anywhere by typing their user name:

- **user name + address** (django-axes, ``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``):
  ``LOGIN_FAILURE_LIMIT`` failures (5) pause sign-in with that user name *from that address* for
  ``LOGIN_LOCKOUT_MINUTES`` (15).  The person signs in from their own workstation meanwhile.
- **user name alone**, higher and slower: ``LOGIN_NAME_FAILURE_LIMIT`` failures (30) from any addresses within
  ``LOGIN_NAME_WINDOW_HOURS`` (24) pause the user name everywhere until the window ends — a distributed
  guessing attack — unless an administrator lifts it on the security page.

Failures are counted whether or not the user name exists (the pages never tell).  When a lock-out begins
the account holder gets an e-mail notice (no patient data) and the security page lists it, with unlock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from oncoliaison.core import audit, clock, throttle
from oncoliaison.core.access import require_admin
from oncoliaison.core.actor import Actor
from oncoliaison.core.errors import NotFound
from oncoliaison.core.models import AuditAction, AuditOutcome

from . import notifications
from .models import User, UserKind

NAME_SCOPE = "login-name"
NOTICE_SCOPE = "login-lock-notice"


def _name(username: str) -> str:
    return username.strip().casefold()[:150]


def _name_window() -> int:
    return int(settings.LOGIN_NAME_WINDOW_HOURS) * 3600


def name_locked_until(username: str) -> dt.datetime | None:
    """When the per-name ceiling lifts, if the user name has reached it (any address)."""
    counted = throttle.peek(NAME_SCOPE, _name(username), window_seconds=_name_window())
    return counted.window_end if counted.failures >= settings.LOGIN_NAME_FAILURE_LIMIT else None


def failure_recorded(*, username: str, user: User | None, source_address: str, address_locked: bool) -> None:
    """Count one failed sign-in (wrong password or code) towards the per-name ceiling, and send the notice
    when a lock-out begins: the first time this name is locked at this address in the cool-off, or when the
    name reaches its ceiling.  Attempts refused at an already locked address were never checked and do not
    count, so one address cannot reach the ceiling by itself."""
    if not username:
        return
    if address_locked:
        notice = throttle.hit(NOTICE_SCOPE, f"{_name(username)}|{source_address}",
                              window_seconds=int(settings.LOGIN_LOCKOUT_MINUTES) * 60)
        if notice.count > 1:
            return  # refused at a locked address without checking the password: not counted again
        _notify(user, f"there were {settings.AXES_FAILURE_LIMIT} unsuccessful attempts from one network "
                      f"address ({source_address or 'unknown'}). Sign-in from there is paused for "
                      f"{settings.LOGIN_LOCKOUT_MINUTES} minutes; you can still sign in from your usual device.")
    counted = throttle.hit(NAME_SCOPE, _name(username), window_seconds=_name_window(), failure=True)
    if counted.failures == settings.LOGIN_NAME_FAILURE_LIMIT:
        audit.log(Actor(kind="anonymous", user_id=user.pk if user else None, username=user.username if user else "",
                        source_address=source_address), AuditAction.LOGIN_FAILED, category="authentication",
                  outcome=AuditOutcome.DENIED, detail=f"user name locked at every address until "
                                                      f"{counted.window_end:%Y-%m-%d %H:%M} UTC")
        _notify(user, f"there have been {counted.failures} unsuccessful attempts from several places today. "
                      f"Sign-in with your user name is paused everywhere until {counted.window_end:%H:%M} UTC "
                      "unless your program administrator lifts it sooner.")


def _notify(user: User | None, what: str) -> None:
    if user is None or not user.email:
        return
    notice = notifications.sign_in_paused(user.first_name or user.username, what)
    to = user.email
    transaction.on_commit(lambda: send_mail(notice.subject, notice.body, None, [to], fail_silently=True))


@dataclass(frozen=True)
class LockOut:
    user: User
    kind: str  # "address" | "name"
    address: str
    failures: int
    until: dt.datetime


def _managed_staff(actor: Actor) -> list[User]:
    require_admin(actor)
    return list(User.objects.filter(kind=UserKind.STAFF, memberships__organization_id__in=actor.admin_organization_ids())
                .distinct().order_by("username"))


def lockouts_for(actor: Actor) -> list[LockOut]:
    """Lock-outs in force on the staff of the organisations the actor administers (the security page)."""
    people = {u.username: u for u in _managed_staff(actor)}
    now = clock.now()
    cooloff = dt.timedelta(minutes=int(settings.LOGIN_LOCKOUT_MINUTES))
    out: list[LockOut] = []
    for attempt in AccessAttempt.objects.filter(username__in=list(people), attempt_time__gt=now - cooloff,
                                                failures_since_start__gte=settings.AXES_FAILURE_LIMIT):
        out.append(LockOut(people[attempt.username], "address", attempt.ip_address or "", attempt.failures_since_start,
                           attempt.attempt_time + cooloff))
    by_hash = {throttle.key_hash(NAME_SCOPE, _name(name)): user for name, user in people.items()}
    start = now - dt.timedelta(seconds=_name_window())
    from oncoliaison.core.models import ThrottleWindow

    for row in ThrottleWindow.objects.filter(scope=NAME_SCOPE, key_hash__in=list(by_hash), window_start__gt=start,
                                             failures__gte=settings.LOGIN_NAME_FAILURE_LIMIT):
        out.append(LockOut(by_hash[row.key_hash], "name", "", row.failures,
                           row.window_start + dt.timedelta(seconds=_name_window())))
    return sorted(out, key=lambda lock: (lock.user.username, lock.kind))


def lockout_lift(*, actor: Actor, user_id: int, channel: str = "web") -> User:
    """An administrator lifts every lock-out on one of their staff (after checking it was them)."""
    user = next((u for u in _managed_staff(actor) if u.pk == user_id), None)
    if user is None:
        raise NotFound()
    with transaction.atomic():
        attempts = axes_reset(username=user.username)
        throttle.reset(NAME_SCOPE, _name(user.username))
        audit.log(actor, AuditAction.ADMIN, category="authentication", resource_type="User", resource_id=user.pk,
                  detail=f"sign-in lock-out lifted ({attempts} address lock(s))", channel=channel)
    return user

