"""Encryption of secrets at rest (Fernet, with key rotation through MultiFernet)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings


def _derived_key(purpose: str) -> bytes:
    digest = hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest)


@functools.cache
def _fernet() -> MultiFernet:
    keys = list(settings.FIELD_ENCRYPTION_KEYS) or [_derived_key("field-encryption").decode()]
    return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def audit_hmac_key() -> bytes:
    """Key for the audit chain's HMAC; lives outside the database so a DB editor cannot re-seal rows."""
    return hashlib.sha256(b"oncoliaison-audit-chain:" + settings.SECRET_KEY.encode()).digest()


def audit_checkpoint_key() -> bytes:
    """Key that signs audit checkpoints (``AUDIT_CHECKPOINT_KEY``; derived from SECRET_KEY when unset,
    outside production).  Configuration, never the database: whoever can rewrite the database cannot sign."""
    secret = settings.AUDIT_CHECKPOINT_KEY or settings.SECRET_KEY
    return hashlib.sha256(b"oncoliaison-audit-checkpoint:" + secret.encode()).digest()
