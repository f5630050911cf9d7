"""Fixtures every test folder may use: a real S3-compatible server (started only when a test asks)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.s3_server import S3Server


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's standalone S3 server on a free port, shared by the session (each test makes its own bucket)."""
    from tests.s3_server import running_s3  # moto and boto3 take seconds to import: only when asked

    with running_s3() as server:
        yield server
