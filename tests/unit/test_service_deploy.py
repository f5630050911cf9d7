"""docker-compose.yml parses, wires the pieces in order, and only sets settings that exist."""

from __future__ import annotations

from pathlib import Path

import yaml

from services.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_services_and_their_order() -> None:
    services = compose()["services"]
    assert set(services) == {"db", "kafka", "minio", "minio-init", "migrate", "api", "worker"}
    assert services["migrate"]["command"] == ["geulssi", "migrate"]
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert "healthcheck" in services[name]
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert services["db"]["image"].startswith("mysql:8")
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft


def test_artifacts_live_in_minio_not_on_a_shared_volume() -> None:
    services = compose()["services"]
    assert services["minio"]["image"].startswith("minio/minio")
    assert "mc mb --ignore-existing store/geulssi" in services["minio-init"]["entrypoint"][-1]
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    for name in ("api", "worker"):
        assert services[name]["depends_on"]["minio-init"]["condition"] == "service_completed_successfully"
        assert services[name]["environment"]["GEULSSI_STORAGE_URL"] == "s3://geulssi/artifacts"
        assert services[name]["environment"]["GEULSSI_S3_ENDPOINT_URL"] == "http://minio:9000"
        assert not services[name].get("volumes"), f"{name} should share no disk with the others"


def test_the_worker_reserves_a_gpu() -> None:
    devices = compose()["services"]["worker"]["deploy"]["resources"]["reservations"]["devices"]
    assert devices == [{"driver": "nvidia", "count": 1, "capabilities": ["gpu"]}]


def test_every_geulssi_variable_is_a_setting() -> None:
    fields = {name.upper() for name in Settings.model_fields}
    for name, service in compose()["services"].items():
        for variable in service.get("environment", {}):
            if variable.startswith("GEULSSI_"):
                assert variable.removeprefix("GEULSSI_") in fields, f"{name}: {variable} is not a setting"


def test_the_dockerfile_installs_the_code_next_to_its_migrations() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --no-deps -e ." in dockerfile
    assert (ROOT / "migrations" / "alembic.ini").is_file()
