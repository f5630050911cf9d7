"""Service settings, read once from GEULSSI_* environment variables (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the API, the worker and `geulssi serve` can be told from outside.

    Defaults give the embedded setup (SQLite under ./var, a local broker started by `geulssi serve`);
    production sets GEULSSI_DATABASE_URL and GEULSSI_KAFKA_BOOTSTRAP_SERVERS (see docker-compose.yml).
    """

    model_config = SettingsConfigDict(env_prefix="GEULSSI_", env_file=".env", extra="ignore", frozen=True)

    # --- database and files
    database_url: str = Field(
        default="sqlite:///./var/geulssi.db",
        description="SQLAlchemy URL, e.g. mysql+pymysql://geulssi:secret@db:3306/geulssi",
    )
    database_pool_size: int = 5
    storage_dir: Path = Field(
        default=Path("./var/artifacts"), description="where photos and finished fonts are kept"
    )
    storage_url: str = Field(
        default="",
        description="s3://bucket/prefix keeps artifacts in an S3-compatible store (MinIO, AWS S3), so "
        "workers can run on other hosts; empty means the storage_dir folder",
    )
    s3_endpoint_url: str = Field(
        default="", description="the S3 server, e.g. http://minio:9000; empty means AWS (or AWS_ENDPOINT_URL)"
    )
    s3_access_key_id: str = Field(
        default="", description="empty means boto3's own lookup (AWS_* variables, instance roles)"
    )
    s3_secret_access_key: SecretStr = SecretStr("")
    s3_region: str = Field(default="us-east-1", description="the S3 region (MinIO accepts any)")
    work_dir: Path | None = Field(
        default=None, description="scratch space for builds (default: the system temp dir)"
    )

    # --- Kafka
    kafka_bootstrap_servers: str = Field(
        default="", description="host:port[,host:port]; empty means `geulssi serve` starts a local broker"
    )
    jobs_topic: str = "geulssi.jobs"
    jobs_topic_partitions: int = 4
    dead_letter_topic: str = "geulssi.jobs.dead"
    consumer_group: str = "geulssi-workers"
    # Real Kafka refuses session timeouts under 6 s by default; tests use 2000/500 against Tansu.
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    # A job runs in a thread while the loop keeps polling a paused partition, so this only bounds
    # one poll-loop turn, not a job.
    kafka_max_poll_interval_ms: int = 300_000
    kafka_request_timeout_ms: int = 10_000

    # --- uploads
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, description="largest photo accepted, in bytes")
    max_upload_pixels: int = Field(
        default=50_000_000, description="largest photo accepted, in pixels (width x height)"
    )
    max_photos_per_upload: int = 10

    # --- security
    operator_token: str = Field(
        default="",
        description="bearer token for the operator page's data, /api/ops/* and /metrics; empty switches "
        "them off (they answer 503)",
    )

    # --- jobs: leases, retries and time limits are policy, kept here in one place
    lease_seconds: float = Field(
        default=60.0, description="a running job whose lease is not renewed this long is retaken"
    )
    max_attempts: int = 3
    retry_backoff_seconds: float = 30.0
    retry_backoff_max_seconds: float = 600.0
    job_time_limit_seconds: float = Field(
        default=3 * 3600.0, description="a build running longer than this fails"
    )
    requeue_after_seconds: float = Field(
        default=300.0, description="a queued job with no sign of life is published again after this long"
    )
    relay_interval_seconds: float = 0.5
    sweep_interval_seconds: float = 10.0

    # --- the build
    finetune_steps: int | None = Field(
        default=None, description="fine-tune steps; empty means the flow's default"
    )
    base_weights: Path | None = Field(
        default=None, description="pretrained generator checkpoint; empty means the committed weights"
    )
    device: str | None = Field(
        default=None, description="torch device for builds; empty means CUDA when present"
    )

    worker_health_file: Path | None = Field(
        default=None, description="a file the worker touches while alive (for container health checks)"
    )

    # --- web
    public_base_url: str = Field(
        default="", description="prefix for URLs in API answers, e.g. https://geulssi.example"
    )
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def kafka_servers(self) -> list[str]:
        return [s.strip() for s in self.kafka_bootstrap_servers.split(",") if s.strip()]

    @property
    def max_request_bytes(self) -> int:
        """The most one upload request may carry: every photo at its limit, plus room for the form."""
        return self.max_upload_bytes * self.max_photos_per_upload + 1024 * 1024


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, built on first use."""
    return Settings()
