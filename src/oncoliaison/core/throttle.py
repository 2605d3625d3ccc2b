"""Fixed-window counters shared by every worker (rows of ``ThrottleWindow``), for rate limits and lock-outs.

Keys are hashed with the secret key before they are stored: no address, client id or user name in clear."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from . import clock
from .models import ThrottleWindow


@dataclass(frozen=True)
class Count:
    count: int  # attempts in the window, this one included
    failures: int
    window_start: dt.datetime
    window_end: dt.datetime

    def retry_after(self) -> int:
        """Seconds until the window ends (for a Retry-After header)."""
        return max(1, math.ceil((self.window_end - clock.now()).total_seconds()))


def key_hash(scope: str, key: str) -> str:
    return salted_hmac(f"oncoliaison.throttle.{scope}", key or "-").hexdigest()


def _window(seconds: int) -> tuple[dt.datetime, dt.datetime]:
    now = clock.now()
    start = dt.datetime.fromtimestamp(int(now.timestamp()) // seconds * seconds, tz=dt.UTC)
    return start, start + dt.timedelta(seconds=seconds)


def hit(scope: str, key: str, *, window_seconds: int, failure: bool = False) -> Count:
    """Count one attempt (and one failure when ``failure``) for ``key``; returns the window's totals."""
    start, end = _window(window_seconds)
    h = key_hash(scope, key)
    add_failure = 1 if failure else 0
    with transaction.atomic():
        updated = ThrottleWindow.objects.filter(scope=scope, key_hash=h, window_start=start).update(
            count=F("count") + 1, failures=F("failures") + add_failure)
        if not updated:
            try:
                with transaction.atomic():
                    ThrottleWindow.objects.create(scope=scope, key_hash=h, window_start=start, count=1,
                                                  failures=add_failure)
            except IntegrityError:  # another worker created it at the same moment
                ThrottleWindow.objects.filter(scope=scope, key_hash=h, window_start=start).update(
                    count=F("count") + 1, failures=F("failures") + add_failure)
            # Forget windows that ended more than a day ago (the longest window in use).
            ThrottleWindow.objects.filter(window_start__lt=clock.now() - dt.timedelta(days=2)).delete()
        row = ThrottleWindow.objects.filter(scope=scope, key_hash=h, window_start=start).values_list(
            "count", "failures").get()
    return Count(row[0], row[1], start, end)


def record_failure(scope: str, key: str, *, window_seconds: int) -> Count:
    """Count a failure of an attempt already counted by ``hit`` (the attempt count is unchanged)."""
    start, end = _window(window_seconds)
    h = key_hash(scope, key)
    with transaction.atomic():
        ThrottleWindow.objects.filter(scope=scope, key_hash=h, window_start=start).update(failures=F("failures") + 1)
        row = ThrottleWindow.objects.filter(scope=scope, key_hash=h, window_start=start).values_list(
            "count", "failures").first()
    return Count(row[0] if row else 0, row[1] if row else 0, start, end)


def peek(scope: str, key: str, *, window_seconds: int) -> Count:
    start, end = _window(window_seconds)
    row = ThrottleWindow.objects.filter(scope=scope, key_hash=key_hash(scope, key), window_start=start).values_list(
        "count", "failures").first()
    return Count(row[0] if row else 0, row[1] if row else 0, start, end)


def reset(scope: str, key: str) -> int:
    """Forget every window of ``key`` (an administrator lifting a lock-out); returns the rows removed."""
    deleted, _ = ThrottleWindow.objects.filter(scope=scope, key_hash=key_hash(scope, key)).delete()
    return deleted
