"""Parley settings.

The embedded default needs nothing: SQLite under ``var/`` and the in-memory channel layer. Production
sets ``DATABASE_URL`` (PostgreSQL) and ``REDIS_URL`` (channels-redis), ``SECRET_KEY``, ``ALLOWED_HOSTS``
and ``PUBLIC_BASE_URL``. See docs/configuration.md for every variable.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

from contact_center import static_files
from contact_center.lib import env

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.get_str("PARLEY_VAR_DIR") or BASE_DIR / "var")

DEBUG = env.get_bool("DEBUG", default=False)

# --- Secret key -----------------------------------------------------------------------------------
# With DEBUG on (the embedded default, `make run`) a key is generated into var/ on first start and
# kept, so sessions and visitor tokens survive restarts. With DEBUG off the operator must provide a
# real key: a missing or placeholder key would let anyone forge sessions and visitor tokens.
_PLACEHOLDER_KEYS = {"", "changeme", "change-me", "secret", "insecure", "your-secret-key"}


def _secret_key() -> str:
    key = env.get_str("SECRET_KEY")
    if key is not None:
        placeholder = key.strip().lower() in _PLACEHOLDER_KEYS or key.startswith("django-insecure")
        if not DEBUG and (placeholder or len(key) < 32):
            raise ImproperlyConfigured("SECRET_KEY is a placeholder or shorter than 32 characters")
        return key
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off")
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = _secret_key()

PUBLIC_BASE_URL = (env.get_str("PUBLIC_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
_public = urlsplit(PUBLIC_BASE_URL)
if _public.scheme not in {"http", "https"} or not _public.hostname:
    raise ImproperlyConfigured(f"PUBLIC_BASE_URL={PUBLIC_BASE_URL!r} must be an absolute http(s) URL")

ALLOWED_HOSTS = env.get_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", _public.hostname])
CSRF_TRUSTED_ORIGINS = [f"{_public.scheme}://{_public.netloc}"]

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "contact_center",
    "widget",
    "kb",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before WhiteNoise, so static files get the policy too (contact_center/security_headers.py).
    "contact_center.security_headers.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "contact_center.session_tracking.AgentSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "contact_center.urls"
ASGI_APPLICATION = "contact_center.asgi.application"
WSGI_APPLICATION = "contact_center.wsgi.application"
# HTTP requests run on this many threads per web process (asgi.py), and per gunicorn worker in production
# (deploy/gunicorn.conf.py); each holds a database connection while it works, so keep it, with
# PARLEY_DATABASE_THREADS, below DATABASE_POOL_MAX_SIZE.
PARLEY_HTTP_THREADS = env.get_int("PARLEY_HTTP_THREADS", 8, minimum=1)
# Threads for the database work of sockets and the outbox worker (contact_center/database_threads.py);
# 0 chooses by backend: 1 on SQLite (one writer), 4 on PostgreSQL.
PARLEY_DATABASE_THREADS = env.get_int("PARLEY_DATABASE_THREADS", 0, minimum=0)

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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------------
# SQLite in WAL mode lets readers run beside the one writer; IMMEDIATE transactions take the write
# lock at BEGIN, so two writers queue on busy_timeout instead of failing with "database is locked"
# when a read lock would have to be upgraded half-way through.
_SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
}
# SQLite connections are kept and reused (PostgreSQL's come from a pool, below): opening one per
# database call cost the PRAGMAs above on every call. No health check before reuse:
# Channels ends every socket database call as a "request", so Django's check was an extra SELECT 1 per
# call (39% of the database thread's time on PostgreSQL, docs/benchmarks.md). A connection broken by a
# database restart fails one call and is then replaced, as Django closes connections that errored.
_CONN_MAX_AGE = env.get_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
_database_url = env.get_str("DATABASE_URL")
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=_CONN_MAX_AGE, conn_health_checks=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"DATABASE_URL cannot be parsed: {exc}") from exc
    if _db["ENGINE"] not in {"django.db.backends.postgresql", "django.db.backends.sqlite3"}:
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:// URL")
    if _db["ENGINE"] == "django.db.backends.sqlite3":
        _db["OPTIONS"] = dict(_SQLITE_OPTIONS)
    else:
        # PostgreSQL connections come from a pool (psycopg_pool, Django 5.1+), shared by the HTTP
        # threads and the socket thread of a process, so idle threads hold none. (Under Django's own
        # ASGI handler, a thread per request, a connection kept per thread was one new backend per
        # request: 77 after 20 s of bench/console.py.) Pooled, "closing" returns it: CONN_MAX_AGE is 0.
        _db["CONN_MAX_AGE"] = 0
        _db["OPTIONS"] = {
            "pool": {
                "min_size": 2,
                "max_size": env.get_int("DATABASE_POOL_MAX_SIZE", 20, minimum=2),
                # A request that finds every connection busy waits this long, then fails loudly.
                "timeout": 10,
            }
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    _db = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": VAR_DIR / "parley.sqlite3",
        "OPTIONS": dict(_SQLITE_OPTIONS),
        "CONN_MAX_AGE": _CONN_MAX_AGE,
    }
_test_name = env.get_str("TEST_DATABASE_NAME")
if not _test_name and _db["ENGINE"] == "django.db.backends.sqlite3":
    # Tests run on a file in WAL mode, as production does. Django's default test database, a
    # shared-cache in-memory one, fails a second writer at once ("database table is locked") instead
    # of queueing it on the busy timeout. One file per process: test suites may run side by side.
    _test_name = str(Path(tempfile.gettempdir()) / f"parley-test-{os.getpid()}.sqlite3")
_db["TEST"] = {"NAME": _test_name} if _test_name else {}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer ----------------------------------------------------------------------------------
REDIS_URL = env.get_str("REDIS_URL") or ""
if REDIS_URL:
    from redis import exceptions as redis_errors

    if urlsplit(REDIS_URL).scheme not in {"redis", "rediss", "unix"}:
        raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must be a redis://, rediss:// or unix:// URL")
    # Events to sockets over pub/sub, the outbox's wake-ups on lists (contact_center/redis_channel_layer.py).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "contact_center.redis_channel_layer.RedisEventsLayer",
            "CONFIG": {
                # For the connections that publish and that wait on lists (the subscriber connection
                # has no read timeout). The outbox worker waits on a blocking BZPOPMIN of 5 s; redis-py 8
                # made reads time out after 5 s by default (django/channels_redis#422): give reads a bound
                # above the blocking wait instead. After Redis restarts, every pooled connection is dead
                # and redis-py (no retries by default) failed the next command on each: retry once on a
                # fresh connection. The pool refuses (does not wait for) a command past max_connections;
                # 100 by default, which a burst of publishes from busy actions can reach.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 15,
                        "retry_on_error": [redis_errors.ConnectionError],
                        "max_connections": 1000,
                    }
                ],
                "prefix": env.get_str("PARLEY_CHANNEL_PREFIX") or "parley",
                # Each socket's queue in its process. Consoles of busy agents receive bursts; a full
                # channel drops events, which is harmless (clients resume from the database) but worth
                # keeping rare.
                "capacity": 1000,
                # How long a wake-up waits in its Redis list for the outbox worker.
                "expiry": 30,
            },
        }
    }
else:
    # Channels' in-memory layer without its scan of every channel on each call (contact_center/channel_layer.py).
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "contact_center.channel_layer.InProcessChannelLayer", "CONFIG": {"capacity": 1000}}
    }

# --- Cache ------------------------------------------------------------------------------------------
# Rate limits count in the cache. On Redis they hold across every web node; in memory, per process
# (the whole installation in the embedded default).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": (env.get_str("PARLEY_CHANNEL_PREFIX") or "parley") + ":cache",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "parley"}}

# --- Auth ---------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "contact_center.Agent"
# ModelBackend with the per-request agent lookup in plain SQL (contact_center/authentication.py).
AUTHENTICATION_BACKENDS = ["contact_center.authentication.AgentBackend"]
LOGIN_URL = "/console/login/"
LOGIN_REDIRECT_URL = "/console/"
LOGOUT_REDIRECT_URL = "/console/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = True
if not DEBUG:
    # Every URL carries the files' version and is cached for good (contact_center/static_files.py); the
    # embedded default (DEBUG) serves the apps' files under /static/ as they are, re-checked after 60 s.
    _static_version = static_files.version(
        [BASE_DIR / "contact_center" / "static", BASE_DIR / "widget" / "static"], salt=django.get_version()
    )
    STATIC_URL = f"/static/{_static_version}/"
    WHITENOISE_IMMUTABLE_FILE_TEST = static_files.immutable
if DEBUG:
    # The embedded default serves static files straight from the apps (finders); WhiteNoise still
    # warns when STATIC_ROOT is missing, so give it the (empty) folder collectstatic would fill.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Sessions are read from the cache (Redis wherever there is more than one process) and written to
# both: the database lookup was a sixth of an API request's time (docs/benchmarks.md). Without the
# cache they are read from the database (contact_center/sessions.py).
SESSION_ENGINE = "contact_center.sessions"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Security headers (docs/configuration.md, "Security headers"; the Content-Security-Policy is
# contact_center/security_headers.py). No Referer leaves Parley: conversation and article addresses
# stay private, and the widget frame tells the host page's links nothing.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if _public.scheme == "https":
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    # Browsers then refuse plain http to this host for that long: 0 turns it off (say, while trying TLS out).
    SECURE_HSTS_SECONDS = env.get_int("PARLEY_HSTS_SECONDS", 60 * 60 * 24 * 365, minimum=0)

# --- Parley -------------------------------------------------------------------------------------------
# Transports by inbox kind, as dotted paths resolved lazily: the core never imports an adapter.
PARLEY_TRANSPORTS = {
    "widget": "widget.transport.WidgetTransport",
    "email": "channels_adapters.email.transport.EmailTransport",
}
# Outgoing mail (offline-mode replies, transcripts): docs/configuration.md, "Email".
PARLEY_SMTP = {"url": env.get_str("SMTP_URL"), "mail_from": env.get_str("PARLEY_MAIL_FROM")}
# The SMTP/LMTP listener of `serve --roles mail` (channels_adapters/email/listener.py, docs/email.md).
PARLEY_MAIL_LISTENER = {
    "max_bytes": env.get_int("PARLEY_MAIL_MAX_BYTES", 25 * 1024 * 1024, minimum=1024),
    "max_connections_per_ip": env.get_int("PARLEY_MAIL_MAX_CONNECTIONS_PER_IP", 10, minimum=1),
    "messages_per_ip": env.get_rate("PARLEY_MAIL_RATE_PER_IP", "60/minute"),
    "tls_cert": (env.get_str("PARLEY_MAIL_TLS_CERT") or "").strip(),
    "tls_key": (env.get_str("PARLEY_MAIL_TLS_KEY") or "").strip(),
}
if bool(PARLEY_MAIL_LISTENER["tls_cert"]) != bool(PARLEY_MAIL_LISTENER["tls_key"]):
    # One without the other would silently serve without STARTTLS.
    raise ImproperlyConfigured("PARLEY_MAIL_TLS_CERT and PARLEY_MAIL_TLS_KEY go together: set both or neither")


def _twilio() -> dict[str, str | None]:
    """``TWILIO_*`` checked: both credentials or neither, an account SID that is one, an API URL that is
    an http(s) base. The token is never echoed in an error."""
    sid = (env.get_str("TWILIO_ACCOUNT_SID") or "").strip()
    token = (env.get_str("TWILIO_AUTH_TOKEN") or "").strip()
    api_url = (env.get_str("TWILIO_API_URL") or "").strip().rstrip("/")
    if bool(sid) != bool(token):
        raise ImproperlyConfigured("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set together, or neither")
    if sid and not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        raise ImproperlyConfigured(f"TWILIO_ACCOUNT_SID={sid!r} is not an account SID (AC and 32 hex digits)")
    if any(c.isspace() for c in token):
        raise ImproperlyConfigured("TWILIO_AUTH_TOKEN contains whitespace")
    parts = urlsplit(api_url)
    if api_url and (parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment):
        raise ImproperlyConfigured(f"TWILIO_API_URL={api_url!r} is an http(s) base URL, without query or fragment")
    return {"account_sid": sid or None, "auth_token": token or None, "api_url": api_url or None}


# Outgoing SMS through Twilio (replies to a phone number): docs/configuration.md, "SMS (Twilio)". The
# transport is registered only with credentials: "Reply via" offers phone numbers only where texts can go.
PARLEY_TWILIO = _twilio()
if PARLEY_TWILIO["account_sid"]:
    PARLEY_TRANSPORTS["sms"] = "channels_adapters.sms.transport.SmsTransport"
PARLEY_OUTBOX = {
    "max_attempts": env.get_int("PARLEY_OUTBOX_MAX_ATTEMPTS", 8, minimum=1),
    "lease_seconds": env.get_int("PARLEY_OUTBOX_LEASE_SECONDS", 60, minimum=1),
    "backoff_base_seconds": 2,
    "backoff_cap_seconds": 3600,
    "poll_seconds": 2,
    # Touched after every pass that reached the database; deploy/worker_healthcheck.py reads its age.
    "heartbeat_file": env.get_str("PARLEY_WORKER_HEARTBEAT_FILE"),
}
# Visitor tokens are long-lived: the widget keeps the visitor's history across visits.
PARLEY_VISITOR_TOKEN_MAX_AGE = env.get_int("PARLEY_VISITOR_TOKEN_MAX_AGE", 60 * 60 * 24 * 365, minimum=60)
PARLEY_MESSAGE_MAX_CHARS = 10_000
# Widget abuse limits, COUNT/UNIT or off (docs/configuration.md, "Rate limits").
PARLEY_RATE_LIMITS = {
    "messages_per_visitor": env.get_rate("PARLEY_RATE_MESSAGES_PER_VISITOR", "20/minute"),
    "messages_per_ip": env.get_rate("PARLEY_RATE_MESSAGES_PER_IP", "60/minute"),
    "uploads_per_visitor": env.get_rate("PARLEY_RATE_UPLOADS_PER_VISITOR", "10/minute"),
    "uploads_per_ip": env.get_rate("PARLEY_RATE_UPLOADS_PER_IP", "30/minute"),
    "conversations_per_ip": env.get_rate("PARLEY_RATE_CONVERSATIONS_PER_IP", "5/hour"),
    "transcripts_per_visitor": env.get_rate("PARLEY_RATE_TRANSCRIPTS_PER_VISITOR", "3/hour"),
    # Self-service: suggestion look-ups, article reads and outcomes together (the widget asks as visitors type).
    "selfservice_per_visitor": env.get_rate("PARLEY_RATE_SELFSERVICE_PER_VISITOR", "60/minute"),
    "selfservice_per_ip": env.get_rate("PARLEY_RATE_SELFSERVICE_PER_IP", "300/minute"),
    # Failed agent sign-ins (wrong password or code), checked before the password: then refused until the window ends.
    "login_failures_per_account": env.get_rate("PARLEY_RATE_LOGIN_FAILURES_PER_ACCOUNT", "5/15minute"),
    "login_failures_per_ip": env.get_rate("PARLEY_RATE_LOGIN_FAILURES_PER_IP", "30/15minute"),
    # What a visitor says about themselves (identify, attributes, prechat together): a page load sends one
    # or two, so these bound a script, not a visitor browsing fast.
    "profile_per_visitor": env.get_rate("PARLEY_RATE_PROFILE_PER_VISITOR", "30/minute"),
    "profile_per_ip": env.get_rate("PARLEY_RATE_PROFILE_PER_IP", "120/minute"),
    # Customers those frames create (a visitor's first identify/attributes/prechat before any message).
    "customers_per_ip": env.get_rate("PARLEY_RATE_CUSTOMERS_PER_IP", "30/hour"),
}
# The knowledge base's search backend (kb/search.py), a dotted path resolved on first use.
PARLEY_KB_SEARCH = "kb.search.TermMatchSearch"
# Where readers find an article, so agents can link one in a reply (kb.search.article_urls): an http(s)
# URL with {slug} or {id} in it, e.g. https://help.shop.example/articles/{slug}. Unset: no links.
PARLEY_KB_ARTICLE_URL = (env.get_str("PARLEY_KB_ARTICLE_URL") or "").strip()
_kb_url = urlsplit(PARLEY_KB_ARTICLE_URL)
if PARLEY_KB_ARTICLE_URL and (
    _kb_url.scheme not in {"http", "https"}
    or not _kb_url.hostname
    or not ("{slug}" in PARLEY_KB_ARTICLE_URL or "{id}" in PARLEY_KB_ARTICLE_URL)
):
    raise ImproperlyConfigured(
        f"PARLEY_KB_ARTICLE_URL={PARLEY_KB_ARTICLE_URL!r} is an http(s) URL with {{slug}} or {{id}}"
    )
# Only behind a proxy that overwrites X-Forwarded-For: otherwise a client picks its own address.
PARLEY_TRUST_X_FORWARDED_FOR = env.get_bool("PARLEY_TRUST_X_FORWARDED_FOR", default=False)
# (username, password) the sign-in page shows. Not an environment variable: only `manage.py serve
# --demo-banner` (`make run`) sets it, so that no real deployment can print a password by mistake.
PARLEY_DEMO_LOGIN: tuple[str, str] | None = None
# Attachment links in message payloads are signed and stop working after this many seconds.
PARLEY_ATTACHMENT_URL_MAX_AGE = env.get_int("PARLEY_ATTACHMENT_URL_MAX_AGE", 60 * 60 * 24, minimum=60)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "filters": {"lost_subscriber": {"()": "contact_center.redis_channel_layer.SkipSocketsClosedForALostSubscriber"}},
    "root": {"handlers": ["console"], "level": env.get_choice("LOG_LEVEL", "INFO", LOG_LEVELS)},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "daphne.server": {"level": "WARNING", "filters": ["lost_subscriber"]},
        "django.channels.server": {"level": "WARNING"},
    },
}
