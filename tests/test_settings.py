"""contact_center.settings: configuration from the environment, refused at start-up when it is wrong.

Settings are read once per process, so every spec starts a fresh Python with a controlled
environment (nothing inherited but PATH) and asks it what Django ended up configured with.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent
REAL_KEY = secrets.token_urlsafe(50)

# Prints what a spec wants to know, as JSON, after the same setup every process does.
REPORT = """
import json, django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
layer = settings.CHANNEL_LAYERS["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "secret_key": settings.SECRET_KEY,
    "engine": db["ENGINE"],
    "db_name": str(db["NAME"]),
    "db_host": db.get("HOST"),
    "db_port": db.get("PORT"),
    "db_options": db.get("OPTIONS", {}),
    "test_db_name": db["TEST"].get("NAME"),
    "layer_backend": layer["BACKEND"],
    "layer_config": layer.get("CONFIG", {}),
    "pid": __import__("os").getpid(),
}, default=str))
"""

# Opens the default SQLite database the way the app does and reports how it behaves.
SQLITE_PROBE = """
import json, sqlite3, django
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    pragmas = {}
    for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous"):
        cursor.execute(f"PRAGMA {name}")
        pragmas[name] = cursor.fetchone()[0]
path = str(connection.settings_dict["NAME"])
other = sqlite3.connect(path, timeout=0, isolation_level=None)

def other_writer_can_begin():
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return False
    other.execute("ROLLBACK")
    return True

free_before = other_writer_can_begin()
with transaction.atomic():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    # A DEFERRED transaction that has only read holds no write lock (and in WAL mode blocks nobody).
    free_during_read_only_transaction = other_writer_can_begin()
print(json.dumps({
    "path": path,
    "pragmas": pragmas,
    "free_before": free_before,
    "free_during_read_only_transaction": free_during_read_only_transaction,
}))
"""


def start(tmp_path: Path, code: str = REPORT, **environ: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter with only ``environ`` (and PATH) set."""
    env = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "contact_center.settings",
        "PARLEY_VAR_DIR": str(tmp_path / "var"),
        **environ,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def configured(tmp_path: Path, code: str = REPORT, **environ: str) -> dict:
    """What the process was configured with; fails the test if it would not start."""
    process = start(tmp_path, code, **environ)
    assert process.returncode == 0, process.stderr
    return json.loads(process.stdout.strip().splitlines()[-1])


def refused(tmp_path: Path, **environ: str) -> str:
    """The ImproperlyConfigured message of a process that refuses to start."""
    process = start(tmp_path, **environ)
    assert process.returncode != 0, process.stdout
    marker = "django.core.exceptions.ImproperlyConfigured: "
    assert marker in process.stderr, process.stderr
    return process.stderr.split(marker, 1)[1].strip()


# --- Secret key ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [{"DEBUG": "0"}, {}], ids=["debug-off", "debug-unset"])
def test_it_refuses_to_start_without_a_secret_key_when_debug_is_off(tmp_path, debug):
    assert refused(tmp_path, **debug) == "SECRET_KEY is required when DEBUG is off"
    assert not (tmp_path / "var" / "secret_key").exists()


@pytest.mark.parametrize(
    "key",
    ["changeme", " CHANGEME ", "django-insecure-" + "x" * 50, "short-but-not-a-placeholder"],
    ids=["placeholder", "placeholder-in-disguise", "django-startproject-key", "too-short"],
)
def test_it_refuses_a_placeholder_or_short_secret_key_when_debug_is_off(tmp_path, key):
    assert "SECRET_KEY is a placeholder or shorter than 32 characters" in refused(tmp_path, DEBUG="0", SECRET_KEY=key)


def test_it_starts_with_a_real_secret_key_when_debug_is_off(tmp_path):
    found = configured(tmp_path, DEBUG="0", SECRET_KEY=REAL_KEY)

    assert (found["debug"], found["secret_key"]) == (False, REAL_KEY)
    assert not (tmp_path / "var" / "secret_key").exists()


def test_it_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(REAL_KEY + "\n")

    assert configured(tmp_path, DEBUG="0", SECRET_KEY_FILE=str(key_file))["secret_key"] == REAL_KEY


def test_it_refuses_a_secret_key_file_it_cannot_read(tmp_path):
    message = refused(tmp_path, DEBUG="0", SECRET_KEY_FILE=str(tmp_path / "missing"))

    assert message.startswith("SECRET_KEY_FILE=")
    assert "cannot be read" in message


def test_it_generates_a_secret_key_once_in_debug_and_keeps_it(tmp_path):
    first = configured(tmp_path, DEBUG="1")["secret_key"]
    second = configured(tmp_path, DEBUG="1")["secret_key"]

    key_file = tmp_path / "var" / "secret_key"
    assert first == second == key_file.read_text().strip()
    assert len(first) >= 50
    assert key_file.stat().st_mode & 0o777 == 0o600


# --- Booleans and numbers -----------------------------------------------------------------------------


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled"])
def test_it_refuses_a_debug_value_that_is_not_a_boolean(tmp_path, raw):
    message = refused(tmp_path, DEBUG=raw, SECRET_KEY=REAL_KEY)

    assert message.startswith(f"DEBUG={raw!r} is not a boolean")


@pytest.mark.parametrize(("raw", "expected"), [(" True ", True), ("off", False)])
def test_it_reads_the_usual_spellings_of_a_boolean(tmp_path, raw, expected):
    assert configured(tmp_path, DEBUG=raw, SECRET_KEY=REAL_KEY)["debug"] is expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [("many", "PARLEY_OUTBOX_MAX_ATTEMPTS='many' is not an integer"), ("0", "is below the minimum of 1")],
)
def test_it_refuses_an_outbox_setting_that_is_not_a_positive_integer(tmp_path, raw, message):
    assert message in refused(tmp_path, DEBUG="1", PARLEY_OUTBOX_MAX_ATTEMPTS=raw)


def test_it_refuses_a_public_base_url_that_is_not_absolute(tmp_path):
    assert "must be an absolute http(s) URL" in refused(tmp_path, DEBUG="1", PUBLIC_BASE_URL="parley.example")


def test_it_refuses_a_log_level_it_does_not_know(tmp_path):
    assert "LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in refused(
        tmp_path, DEBUG="1", LOG_LEVEL="LOUD"
    )


# --- Database -----------------------------------------------------------------------------------------


def test_it_keeps_the_embedded_database_in_wal_mode_under_the_var_directory(tmp_path):
    found = configured(tmp_path, SQLITE_PROBE, DEBUG="1")

    assert found["path"] == str(tmp_path / "var" / "parley.sqlite3")
    assert found["pragmas"]["journal_mode"] == "wal"
    # Concurrent writers queue for the lock instead of failing at once.
    assert found["pragmas"]["busy_timeout"] == 20_000
    assert found["pragmas"]["foreign_keys"] == 1


def test_it_takes_the_write_lock_when_a_transaction_begins(tmp_path):
    found = configured(tmp_path, SQLITE_PROBE, DEBUG="1")

    # IMMEDIATE: even a transaction that has only read so far holds the write lock, so it can never
    # fail half-way with "database is locked" when it needs to upgrade to writing.
    assert found["free_before"] is True
    assert found["free_during_read_only_transaction"] is False


def test_it_tests_on_a_sqlite_file_of_its_own_per_process(tmp_path):
    found = configured(tmp_path, DEBUG="1")

    assert found["test_db_name"].endswith(f"parley-test-{found['pid']}.sqlite3")
    assert found["db_options"]["transaction_mode"] == "IMMEDIATE"


def test_it_names_the_test_database_after_test_database_name(tmp_path):
    assert configured(tmp_path, DEBUG="1", TEST_DATABASE_NAME="test_mine")["test_db_name"] == "test_mine"


def test_it_uses_postgresql_from_database_url(tmp_path):
    found = configured(tmp_path, DEBUG="1", DATABASE_URL="postgres://parley:pw@db.internal:5433/parley")

    assert found["engine"] == "django.db.backends.postgresql"
    assert (found["db_host"], found["db_port"], found["db_name"]) == ("db.internal", 5433, "parley")
    assert found["test_db_name"] is None
    assert not (tmp_path / "var" / "parley.sqlite3").exists()


@pytest.mark.parametrize("url", ["garbage", "postgres://parley@db:notaport/parley"])
def test_it_refuses_a_database_url_it_cannot_parse(tmp_path, url):
    assert refused(tmp_path, DEBUG="1", DATABASE_URL=url).startswith("DATABASE_URL cannot be parsed")


def test_it_refuses_a_database_it_does_not_support(tmp_path):
    message = refused(tmp_path, DEBUG="1", DATABASE_URL="mysql://parley@db/parley")

    assert message == "DATABASE_URL must be a postgres:// or sqlite:// URL"


# --- Channel layer ------------------------------------------------------------------------------------


def test_it_uses_the_in_memory_channel_layer_without_redis(tmp_path):
    assert configured(tmp_path, DEBUG="1")["layer_backend"] == "contact_center.channel_layer.InProcessChannelLayer"


def test_it_uses_redis_for_the_channel_layer_from_redis_url(tmp_path):
    found = configured(tmp_path, DEBUG="1", REDIS_URL="redis://cache.internal:6380/2", PARLEY_CHANNEL_PREFIX="blue")

    assert found["layer_backend"] == "contact_center.redis_channel_layer.RedisEventsLayer"
    [host] = found["layer_config"]["hosts"]
    assert host["address"] == "redis://cache.internal:6380/2"
    assert found["layer_config"]["prefix"] == "blue"


def test_it_refuses_a_redis_url_that_is_not_redis(tmp_path):
    message = refused(tmp_path, DEBUG="1", REDIS_URL="http://cache.internal:6379")

    assert "must be a redis://, rediss:// or unix:// URL" in message


# --- Knowledge-base links -----------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["help.shop.example/{slug}", "https://help.shop.example/articles/", "ftp://h/{id}"])
def test_it_refuses_a_kb_article_url_without_a_scheme_a_host_or_a_placeholder(tmp_path, url):
    message = refused(tmp_path, DEBUG="1", PARLEY_KB_ARTICLE_URL=url)

    assert message == f"PARLEY_KB_ARTICLE_URL={url!r} is an http(s) URL with {{slug}} or {{id}}"


# --- SMS (Twilio) -------------------------------------------------------------------------------------

TWILIO_SID = "AC" + "0a" * 16
TWILIO_TOKEN = "5e" * 16
TWILIO_REPORT = """
import json, django
django.setup()
from django.conf import settings
print(json.dumps({"transports": settings.PARLEY_TRANSPORTS, "twilio": settings.PARLEY_TWILIO}))
"""


def test_it_sends_sms_only_with_twilio_credentials(tmp_path):
    without = configured(tmp_path, TWILIO_REPORT, DEBUG="1")
    credentials = {"TWILIO_ACCOUNT_SID": TWILIO_SID, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN}
    found = configured(tmp_path, TWILIO_REPORT, DEBUG="1", **credentials)

    # Without, "Reply via" offers no phone numbers: a text could only fail.
    assert "sms" not in without["transports"]
    assert found["transports"]["sms"] == "channels_adapters.sms.transport.SmsTransport"
    assert found["twilio"] == {"account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN, "api_url": None}


def test_it_reads_the_twilio_auth_token_from_a_file_and_the_api_url_from_the_environment(tmp_path):
    token_file = tmp_path / "twilio_auth_token"
    token_file.write_text(TWILIO_TOKEN + "\n")

    found = configured(
        tmp_path,
        TWILIO_REPORT,
        DEBUG="1",
        TWILIO_ACCOUNT_SID=TWILIO_SID,
        TWILIO_AUTH_TOKEN_FILE=str(token_file),
        TWILIO_API_URL="http://127.0.0.1:9999/",
    )

    assert found["twilio"] == {
        "account_sid": TWILIO_SID,
        "auth_token": TWILIO_TOKEN,
        "api_url": "http://127.0.0.1:9999",
    }


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"TWILIO_ACCOUNT_SID": TWILIO_SID}, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set together, or neither"),
        ({"TWILIO_AUTH_TOKEN": TWILIO_TOKEN}, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set together, or neither"),
        (
            {"TWILIO_ACCOUNT_SID": "SK" + "0a" * 16, "TWILIO_AUTH_TOKEN": TWILIO_TOKEN},
            f"TWILIO_ACCOUNT_SID='SK{'0a' * 16}' is not an account SID (AC and 32 hex digits)",
        ),
        (
            {"TWILIO_API_URL": "api.twilio.example"},
            "TWILIO_API_URL='api.twilio.example' is an http(s) base URL, without query or fragment",
        ),
    ],
    ids=["sid-without-token", "token-without-sid", "not-an-account-sid", "api-url-without-scheme"],
)
def test_it_refuses_twilio_settings_that_cannot_work(tmp_path, environ, message):
    assert refused(tmp_path, DEBUG="1", **environ) == message
