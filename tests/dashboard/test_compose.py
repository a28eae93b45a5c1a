"""docker-compose.yml is the production topology; it is validated here, never run."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_runs_every_process_of_the_product(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat", "watcher"}


def test_the_database_lives_in_a_named_volume(compose):
    assert "pgdata" in compose["volumes"]
    assert "pgdata:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]


@pytest.mark.parametrize("name", ["postgres", "redis", "web", "worker"])
def test_long_running_services_have_health_checks(compose, name):
    assert compose["services"][name]["healthcheck"]["test"]


def test_app_services_wait_for_healthy_database_and_broker(compose):
    for name in ("web", "worker", "beat", "watcher"):
        service = compose["services"][name]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["environment"]["DJANGO_DEBUG"] == "0"
        assert "postgres:5432" in service["environment"]["DATABASE_URL"]
        assert "redis://redis:6379" in service["environment"]["CELERY_BROKER_URL"]


def test_every_variable_in_the_example_env_is_documented_in_the_readme():
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    names = re.findall(r"^([A-Z][A-Z0-9_]+)=", example, re.M)
    assert len(names) > 10
    assert [n for n in names if n != "POSTGRES_PASSWORD" and f"`{n}`" not in readme] == []


def test_every_setting_read_from_the_environment_is_in_the_readme():
    source = (ROOT / "dashboard" / "settings.py").read_text()
    names = set(re.findall(r'env\.(?:str|bool|int|float|list|db)\(\s*"([A-Z0-9_]+)"', source))
    readme = (ROOT / "README.md").read_text()
    assert len(names) > 15
    assert sorted(n for n in names if f"`{n}`" not in readme) == []


def test_docker_compose_accepts_the_file(tmp_path):
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    shutil.copy(ROOT / "docker-compose.yml", tmp_path)
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = subprocess.run(
        [binary, "config", "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
