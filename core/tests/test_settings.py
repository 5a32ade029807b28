"""Production settings come from the environment; `check --deploy` must pass with the documented minimum."""

import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")


@pytest.fixture
def production_env(tmp_path) -> dict[str, str]:
    """The variables docs/operations.md asks for, and nothing inherited from this test run."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "mire.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
    }


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, MANAGE, *args], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_passes_with_the_production_environment(production_env):
    result = manage(production_env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "warning"),
    [
        ("SECURE_SSL_REDIRECT", "false", "security.W008"),
        ("SECRET_KEY", "troppo-corta", "security.W009"),
        ("DEBUG", "true", "security.W018"),
    ],
)
def test_deploy_check_fails_when_a_safeguard_is_off(production_env, variable, value, warning):
    result = manage({**production_env, variable: value}, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    assert warning in result.stdout + result.stderr


def test_production_without_secret_key_refuses_to_start(production_env):
    del production_env["SECRET_KEY"]
    result = manage(production_env, "check")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is false." in result.stderr


def database_options(env: dict[str, str]) -> str:
    code = "from django.conf import settings; print(sorted(settings.DATABASES['default']['OPTIONS'].items()))"
    result = manage(env, "shell", "-c", code)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


def test_postgresql_prepares_repeated_statements_unless_a_pooler_forbids_it(production_env):
    production_env["DATABASE_URL"] = "postgres://mire@db.example.org:5432/mire"

    assert database_options(production_env) == "[('prepare_threshold', 2), ('server_side_binding', True)]"
    assert database_options({**production_env, "DATABASE_PREPARED_STATEMENTS": "false"}) == "[]"


@pytest.mark.django_db
def test_the_test_database_runs_with_the_production_options():
    from django.db import connection

    connection.ensure_connection()
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    assert connection.connection.prepare_threshold == 2
    assert "ServerBinding" in type(connection.connection.cursor()).__name__
