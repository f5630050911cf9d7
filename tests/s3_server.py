"""A real S3-compatible server for the tests: moto's standalone server on a free port, over HTTP."""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from services.queue.broker import free_port
from services.storage.s3 import S3ArtifactStore

# moto accepts any non-empty keys; passing them explicitly keeps the tests off the developer's AWS setup.
ACCESS_KEY, SECRET_KEY, REGION = "geulssi-test", "geulssi-test-secret", "us-east-1"


@dataclass
class S3Server:
    """Where the server listens, and a client to look behind the store's back."""

    endpoint: str
    client: Any

    def new_bucket(self) -> str:
        name = f"geulssi-{secrets.token_hex(4)}"
        self.client.create_bucket(Bucket=name)
        return name

    def store(self, bucket: str, prefix: str = "") -> S3ArtifactStore:
        return S3ArtifactStore(
            bucket,
            prefix,
            endpoint_url=self.endpoint,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            region=REGION,
        )

    def keys(self, bucket: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    """moto's S3 server in a thread of this process, on a free port; stopped (and forgotten) after."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one log line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )
    try:
        yield S3Server(endpoint, client)
    finally:
        server.stop()
