"""Settings are read from the environment; production refuses unsafe defaults.

Each case imports the settings module in a fresh interpreter, as a process would at start-up.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
KEY = Fernet.generate_key().decode()
PROD = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x" * 60,
    "REGCRED_ENCRYPTION_KEYS": KEY,
    "DJANGO_ALLOWED_HOSTS": "regcred.example.com",
}


def load(tmp_path: Path, env: dict[str, str], *names: str) -> subprocess.CompletedProcess:
    code = (
        "import json, dashboard.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {list(names)!r}}}, default=str))"
    )
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "REGCRED_", "DATABASE_", "CELERY_"))
    }
    clean |= {"REGCRED_VAR_DIR": str(tmp_path / "var")} | env
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def values(tmp_path: Path, env: dict[str, str], *names: str) -> dict:
    result = load(tmp_path, env, *names)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_it_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    env = PROD | {"DJANGO_SECRET_KEY": ""}
    result = load(tmp_path, env, "DEBUG")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG=0" in result.stderr


def test_it_refuses_to_start_in_production_without_encryption_keys(tmp_path):
    env = PROD | {"REGCRED_ENCRYPTION_KEYS": ""}
    result = load(tmp_path, env, "DEBUG")
    assert result.returncode != 0
    assert "REGCRED_ENCRYPTION_KEYS must be set" in result.stderr


def test_production_turns_on_secure_cookies_hsts_and_https_redirect(tmp_path):
    got = values(
        tmp_path,
        PROD,
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_SSL_REDIRECT",
        "ALLOWED_HOSTS",
    )
    assert got == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_SSL_REDIRECT": True,
        "ALLOWED_HOSTS": ["regcred.example.com"],
    }


def test_production_allows_no_host_unless_told(tmp_path):
    env = {k: v for k, v in PROD.items() if k != "DJANGO_ALLOWED_HOSTS"}
    assert values(tmp_path, env, "ALLOWED_HOSTS") == {"ALLOWED_HOSTS": []}


def test_embedded_defaults_use_sqlite_and_the_filesystem_broker_under_var(tmp_path):
    got = values(tmp_path, {}, "DATABASES", "CELERY_BROKER_URL", "CELERY_BROKER_TRANSPORT_OPTIONS")
    db = got["DATABASES"]["default"]
    assert db["ENGINE"] == "django.db.backends.sqlite3"
    assert db["NAME"] == str(tmp_path / "var" / "db.sqlite3")
    assert got["CELERY_BROKER_URL"] == "filesystem://"
    queue = Path(got["CELERY_BROKER_TRANSPORT_OPTIONS"]["data_folder_in"])
    assert queue.is_dir() and queue.is_relative_to(tmp_path / "var")


def test_database_url_selects_postgresql_through_psycopg(tmp_path):
    got = values(tmp_path, {"DATABASE_URL": "postgres://u:p@db.internal:5433/regcred"}, "DATABASES")
    db = got["DATABASES"]["default"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"], db["USER"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "regcred",
        "u",
    )


def test_celery_broker_url_selects_redis(tmp_path):
    got = values(tmp_path, {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/3"}, "CELERY_BROKER_URL")
    assert got["CELERY_BROKER_URL"] == "redis://127.0.0.1:6379/3"


def test_secrets_can_come_from_files(tmp_path):
    secret = tmp_path / "secret_key"
    secret.write_text("from-a-docker-secret-" + "y" * 40)
    env = {k: v for k, v in PROD.items() if k != "DJANGO_SECRET_KEY"}
    env["DJANGO_SECRET_KEY_FILE"] = str(secret)
    assert values(tmp_path, env, "SECRET_KEY")["SECRET_KEY"].startswith("from-a-docker-secret-")


def test_development_generates_an_encryption_key_once_and_keeps_it_private(tmp_path):
    first = values(tmp_path, {}, "REGCRED_ENCRYPTION_KEYS")["REGCRED_ENCRYPTION_KEYS"]
    second = values(tmp_path, {}, "REGCRED_ENCRYPTION_KEYS")["REGCRED_ENCRYPTION_KEYS"]
    assert first == second and len(first) == 1
    Fernet(first[0].encode())  # a usable key, not a placeholder
    key_file = tmp_path / "var" / "encryption.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_several_encryption_keys_are_kept_in_order(tmp_path):
    other = Fernet.generate_key().decode()
    env = {"REGCRED_ENCRYPTION_KEYS": f"{KEY},{other}"}
    assert values(tmp_path, env, "REGCRED_ENCRYPTION_KEYS")["REGCRED_ENCRYPTION_KEYS"] == [
        KEY,
        other,
    ]


@pytest.mark.parametrize("name", ["secret_key", "encryption.key"])
def test_generated_development_keys_are_not_in_the_repository(name):
    tracked = subprocess.run(
        ["git", "ls-files", f"var/{name}"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    assert tracked == ""


def test_a_key_file_another_process_is_still_writing_is_waited_for(tmp_path):
    import threading

    from dashboard.devkeys import development_value

    key = tmp_path / "secret_key"
    key.touch()  # created by the other process, not yet written
    threading.Timer(0.1, key.write_text, ["written-by-the-other-process\n"]).start()
    assert development_value(key, kind="django") == "written-by-the-other-process"
