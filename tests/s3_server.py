"""A real S3-compatible server for the tests: moto's standalone server, its own process on a free port."""

from __future__ import annotations

import contextlib
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3

from services.queue.broker import free_port
from services.storage.s3 import S3ArtifactStore

# moto accepts any non-empty keys; passing them explicitly keeps the tests off the developer's AWS setup.
ACCESS_KEY, SECRET_KEY, REGION = "geulssi-test", "geulssi-test-secret", "us-east-1"


def s3_store(endpoint: str, bucket: str, prefix: str = "") -> S3ArtifactStore:
    """Our S3 store for `bucket` at `endpoint`, with the test credentials."""
    return S3ArtifactStore(
        bucket,
        prefix,
        endpoint_url=endpoint,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        region=REGION,
    )


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
        return s3_store(self.endpoint, bucket, prefix)

    def keys(self, bucket: str) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _wait_until_listening(port: int, process: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto_server exited at start (code {process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"moto_server did not listen on port {port} within {timeout_s:.0f} s")


@contextlib.contextmanager
def running_s3() -> Iterator[S3Server]:
    """`moto_server` as a process of its own on a free port; stopped (and its objects forgotten) after."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_until_listening(port, process)
        endpoint = f"http://127.0.0.1:{port}"
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )
        yield S3Server(endpoint, client)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


MINIO_FULL = (
    b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>XMinioStorageFull</Code><Message>Storage backend '
    b"has reached its minimum free drive threshold. Please delete a few objects to proceed.</Message></Error>"
)


@dataclass
class QuotaS3:
    """moto behind a front that answers like a full MinIO (507) to a write that would pass `capacity` bytes
    (an operator frees space by raising it)."""

    endpoint: str
    capacity: int

    def store(self, bucket: str) -> S3ArtifactStore:
        return s3_store(self.endpoint, bucket)


@contextlib.contextmanager
def quota_s3(backend: S3Server, bucket: str, capacity: int) -> Iterator[QuotaS3]:
    """A front on a free port for `backend`'s `bucket` holding at most `capacity` bytes."""
    import http.client
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import urlsplit

    target = urlsplit(backend.endpoint)

    def used() -> int:
        pages = backend.client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sum(item["Size"] for page in pages for item in page.get("Contents", []))

    class Front(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.command == "PUT" and "?" not in self.path and used() + len(body) > front.capacity:
                self._answer(507, {"Content-Type": "application/xml"}, MINIO_FULL)
                return
            connection = http.client.HTTPConnection(str(target.hostname), target.port, timeout=30)
            connection.request(self.command, self.path, body=body, headers=dict(self.headers))
            answer = connection.getresponse()
            content = answer.read()
            hop_by_hop = ("transfer-encoding", "connection")
            passed = {k: v for k, v in answer.getheaders() if k.lower() not in hop_by_hop}
            self._answer(answer.status, passed, content)
            connection.close()

        def _answer(self, status: int, headers: dict[str, str], content: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name.lower() != "content-length":
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(content)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Front)
    front = QuotaS3(f"http://127.0.0.1:{server.server_address[1]}", capacity)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield front
    finally:
        server.shutdown()
        server.server_close()
