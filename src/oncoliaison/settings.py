"""OncoLiaison settings: one module, driven by environment variables through typed helpers.

Every value a deployment may change is read here with a default fit for the embedded demo
(SQLite under var/).  Production sets ONCOLIAISON_ENV=production, SECRET_KEY, DATABASE_URL,
FIELD_ENCRYPTION_KEY and ALLOWED_HOSTS.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("ONCOLIAISON_VAR_DIR", PROJECT_DIR / "var"))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


ENVIRONMENT = env_str("ONCOLIAISON_ENV", "development")  # development | test | production
PRODUCTION = ENVIRONMENT == "production"
# Off unless asked for: the demo (`make run`) behaves like production (custom error pages, no URL list);
# `make dev` turns it on for development with auto-reload.
DEBUG = env_bool("DEBUG", False) and not PRODUCTION

_DEV_SECRET = "dev-only-not-secret-oncoliaison-0b6f1c2e9d7a4c58"
SECRET_KEY = env_str("SECRET_KEY", "" if PRODUCTION else _DEV_SECRET)
if PRODUCTION and not SECRET_KEY:
    raise RuntimeError("SECRET_KEY must be set in production")
# Key for secrets stored at rest (TOTP seeds).  Comma-separated Fernet keys; the first encrypts,
# all decrypt (rotation).  Outside production it is derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEY", [])
if PRODUCTION and not FIELD_ENCRYPTION_KEYS:
    raise RuntimeError("FIELD_ENCRYPTION_KEY must be set in production")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Tumor-board video rooms generated from this template ("{room}" becomes an unguessable room name); any
# provider whose rooms are addressed by URL works.  Empty: coordinators paste a link for each meeting.
TUMOR_BOARD_VIDEO_TEMPLATE = env_str("TUMOR_BOARD_VIDEO_TEMPLATE", "https://meet.jit.si/{room}")
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "")  # used for absolute FHIR URLs when behind a proxy

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "template_partials",
    "django_tasks",
    "axes",
    "csp",
    "ninja",  # only for the API docs page: Swagger UI from its own static files (no CDN, strict CSP)
    "oncoliaison.core",
    "oncoliaison.auditlog",
    "oncoliaison.accounts",
    "oncoliaison.organisations",
    "oncoliaison.patients",
    "oncoliaison.instruments",
    "oncoliaison.oncology",
    "oncoliaison.assessments",
    "oncoliaison.careplans",
    "oncoliaison.referrals",
    "oncoliaison.programs",
    "oncoliaison.monitoring",
    "oncoliaison.fhir",
    "oncoliaison.exports",
    "oncoliaison.demo",
    "oncoliaison.portal",
    "oncoliaison.messaging",
    "oncoliaison.worklists",
    "oncoliaison.tumorboards",
    "oncoliaison.adherence",
    "oncoliaison.decisions",
    "oncoliaison.dashboard",
    "oncoliaison.home",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "oncoliaison.core.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "oncoliaison.accounts.middleware.SessionPolicyMiddleware",
    "oncoliaison.portal.language.PersonLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
    # Last, so that it runs the view itself for keyed form posts after every other check (core.idempotency).
    "oncoliaison.core.middleware.IdempotencyMiddleware",
]

ROOT_URLCONF = "oncoliaison.urls"
WSGI_APPLICATION = "oncoliaison.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csrf",
                "django.template.context_processors.i18n",
                "csp.context_processors.nonce",
                "oncoliaison.core.context_processors.actor",
                "oncoliaison.patients.context_processors.emergency_access",
                "oncoliaison.messaging.context_processors.unread_messages",
            ],
            # {% idempotency_key %} in every state-changing form without a {% load %} (core.idempotency).
            "builtins": ["oncoliaison.core.templatetags.idempotency"],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
# DATABASE_URL selects the database everywhere (postgres://… in production and CI).
_default_sqlite = f"sqlite:///{VAR_DIR / 'oncoliaison.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_sqlite), conn_max_age=None, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's SQLite backend with the database, WAL and SHM files created owner-only (0600).
    DATABASES["default"]["ENGINE"] = "oncoliaison.core.sqlite"
    # WAL + synchronous=FULL: a crash loses no committed write; IMMEDIATE transactions take the
    # write lock at BEGIN so concurrent writers queue instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
    }
    # Test databases live in memory, Django's SQLite default, named so that parallel test workers (which
    # suffix the name of any other engine's test database) keep it.
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lock-out after repeated failures (accounts/lockout.py): django-axes pauses a user name at one address after
# LOGIN_FAILURE_LIMIT failures for LOGIN_LOCKOUT_MINUTES; a higher, slower ceiling per user name alone
# (LOGIN_NAME_FAILURE_LIMIT failures in LOGIN_NAME_WINDOW_HOURS, from any addresses) pauses it everywhere.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
LOGIN_LOCKOUT_MINUTES = env_int("LOGIN_LOCKOUT_MINUTES", 15)
LOGIN_NAME_FAILURE_LIMIT = env_int("LOGIN_NAME_FAILURE_LIMIT", 30)
LOGIN_NAME_WINDOW_HOURS = env_int("LOGIN_NAME_WINDOW_HOURS", 24)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = LOGIN_LOCKOUT_MINUTES / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # never log user names
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_CLIENT_IP_CALLABLE = "oncoliaison.core.middleware.client_address"

# Inactivity log-off: the session expires after this many idle minutes.
STAFF_IDLE_TIMEOUT_MINUTES = env_int("STAFF_IDLE_TIMEOUT_MINUTES", 15)
PATIENT_IDLE_TIMEOUT_MINUTES = env_int("PATIENT_IDLE_TIMEOUT_MINUTES", 30)
# Break-glass: how long an emergency access to one patient's record lasts.
EMERGENCY_ACCESS_MINUTES = env_int("EMERGENCY_ACCESS_MINUTES", 60)
# TOTP multi-factor authentication: available to every user; required for staff in production.
MFA_REQUIRED_FOR_STAFF = env_bool("MFA_REQUIRED_FOR_STAFF", PRODUCTION)
MFA_ISSUER = env_str("MFA_ISSUER", "OncoLiaison")

SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_AGE = STAFF_IDLE_TIMEOUT_MINUTES * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Public self-referral: which lead program receives them (slug; default: the only active lead program)
# and how many one address may send per hour.
SELF_REFERRAL_ORGANIZATION = env_str("SELF_REFERRAL_ORGANIZATION", "")
SELF_REFERRAL_LIMIT_PER_HOUR = env_int("SELF_REFERRAL_LIMIT_PER_HOUR", 5)

# --- Audit checkpoints (anchoring the audit chain outside the database) --------------------------
# One signed JSON line per checkpoint, appended (0600, fsync) to this file; the same line goes to the
# "oncoliaison.audit.checkpoint" logger, and to syslog when AUDIT_SYSLOG_ADDRESS is set.
AUDIT_CHECKPOINT_FILE = env_str("AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl"))
# HMAC-SHA256 key that signs checkpoints: configuration, never stored in the database.  Outside
# production it may be left empty (then derived from SECRET_KEY); production requires its own.
AUDIT_CHECKPOINT_KEY = env_str("AUDIT_CHECKPOINT_KEY", "")
if PRODUCTION and not AUDIT_CHECKPOINT_KEY:
    raise RuntimeError("AUDIT_CHECKPOINT_KEY must be set in production")
# "/dev/log" (local syslog / journald), "host:port" (UDP) or "" (no syslog copy).
AUDIT_SYSLOG_ADDRESS = env_str("AUDIT_SYSLOG_ADDRESS", "")

# OAuth 2.0 client-credentials tokens for systems (FHIR and JSON API)
API_TOKEN_LIFETIME_SECONDS = env_int("API_TOKEN_LIFETIME_SECONDS", 3600)
# A verified token is remembered by each process for this long (0: ask the database on every request);
# revoking a token or a client rewrites TOKEN_REVOCATION_FILE, which every process reads on every request
# and which all application servers must share (accounts/token_cache.py).
API_TOKEN_CACHE_SECONDS = env_int("API_TOKEN_CACHE_SECONDS", 60)
TOKEN_REVOCATION_FILE = env_str("TOKEN_REVOCATION_FILE", str(VAR_DIR / "token-revocations"))
# Token endpoint throttle: requests per client id and per address in each window (counted in the database).
TOKEN_THROTTLE_WINDOW_SECONDS = env_int("TOKEN_THROTTLE_WINDOW_SECONDS", 300)
TOKEN_REQUESTS_PER_CLIENT = env_int("TOKEN_REQUESTS_PER_CLIENT", 20)
TOKEN_REQUESTS_PER_ADDRESS = env_int("TOKEN_REQUESTS_PER_ADDRESS", 60)

# A replayed state-changing request (same key) is recognised for this long (core.idempotency).
IDEMPOTENCY_RETENTION_HOURS = env_int("IDEMPOTENCY_RETENTION_HOURS", 24)
# Tests: a page POST that renders a page on success (instead of redirecting) fails loudly (PRG).
PRG_STRICT = env_bool("PRG_STRICT", False)

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
BEHIND_PROXY = env_bool("BEHIND_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
# How many reverse proxies of ours stand in front of the application (each appends to X-Forwarded-For);
# the client address is the one the outermost of them saw.  BEHIND_PROXY alone means one.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_PROXY else 0)

from csp.constants import NONCE, NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation ----------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]  # the shared templates' catalogue; each app keeps its own beside it
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

# --- Static files ----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = PROJECT_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]  # the project's own CSS, JS and vendored htmx
# Uploaded documents (referral replies): never served as static files, only through access-checked views.
MEDIA_ROOT = Path(os.environ.get("ONCOLIAISON_MEDIA_DIR", VAR_DIR / "uploads"))
# They hold patient data: owner-only, whatever the umask (Django's default would be 0644 files).
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

# --- Background work (Django's tasks API through the django-tasks backport) -------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "no-reply@oncoliaison.invalid")

# --- Logging: never patient identifiers; request lines carry method, route and status only ----
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # Query strings can hold names, MRNs and birth dates (FHIR searches are GETs): cut from every message
    # (core.logfilters).  The production access log is gunicorn's, configured in oncoliaison.gunicorn_conf.
    "filters": {"no_query_strings": {"()": "oncoliaison.core.logfilters.StripQueryStrings"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["no_query_strings"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger prints the full path (which could hold an id); ours logs routes.  The
        # development server (django.server) logs 4xx/5xx request lines: without their query strings.
        "django.request": {"level": "ERROR", "filters": ["no_query_strings"]},
        "django.server": {"level": "WARNING", "filters": ["no_query_strings"]},
        "axes": {"level": "WARNING"},
        # Audit checkpoints are always written, whatever LOG_LEVEL (see core.checkpoints).
        "oncoliaison.audit.checkpoint": {
            "level": "INFO",
            "handlers": ["console", *(["audit_syslog"] if AUDIT_SYSLOG_ADDRESS else [])],
            "propagate": False,
        },
    },
}
if AUDIT_SYSLOG_ADDRESS:
    _host, _, _port = AUDIT_SYSLOG_ADDRESS.rpartition(":")
    LOGGING["handlers"]["audit_syslog"] = {
        "class": "logging.handlers.SysLogHandler",
        "address": (_host, int(_port)) if _host and _port.isdigit() else AUDIT_SYSLOG_ADDRESS,
        "facility": "auth",
        "formatter": "plain",
    }

NINJA_PAGINATION_PER_PAGE = 50
FHIR_DEFAULT_COUNT = 20
FHIR_MAX_COUNT = 200
# ``POST [base]`` takes whole patient records as transaction Bundles (a Synthea patient's is up to ~4 MB), more
# than the 2.5 MiB every other request body may hold (DATA_UPLOAD_MAX_MEMORY_SIZE, Django's default).
FHIR_BUNDLE_MAX_BYTES = env_int("FHIR_BUNDLE_MAX_BYTES", 64 * 1024 * 1024)

