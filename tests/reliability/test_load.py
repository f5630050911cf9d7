"""50 clients at once against the real API (uvicorn, MariaDB, Tansu): no 5xx and no lost upload.

A smaller run of bench/load.py (one page per client, two polls); no timing is asserted here, the figures
of the full run are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import pytest

from bench import load

pytestmark = [pytest.mark.slow, pytest.mark.mysql, pytest.mark.kafka]


def test_fifty_clients_lose_nothing_and_see_no_server_error() -> None:
    try:
        result = load.run(clients=50, pages=1, polls=2, max_seconds=600, variants=2)
    except load.StackUnavailable as exc:
        pytest.skip(str(exc))
    assert result["server_errors"] == 0, result["examples"]
    assert result["transport_errors"] == 0, result["examples"]
    assert result["skipped_for_time"] == 0
    # Every client's page is a readable photo: each upload is accepted and then found again.
    assert result["uploads_ok"] == 50 and result["uploads_refused"] == 0, result["examples"]
    assert result["lost_uploads"] == 0, result["examples"]
    assert result["requests"] == 50 * (1 + 1 + 2)  # create, upload, two polls
    assert result["unpublished_messages"] == 0
