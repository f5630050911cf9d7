"""The queue contract: messages survive encode/decode, and anything else is refused with a clear reason."""

from __future__ import annotations

import json

import pytest

from services.queue.messages import SCHEMA_VERSION, DeadLetter, JobMessage, MessageError, decode, encode


def test_job_message_round_trip_and_key() -> None:
    message = JobMessage("AbC-12_x")
    data = encode(message)
    assert json.loads(data) == {"job_id": "AbC-12_x", "schema_version": SCHEMA_VERSION, "type": "job"}
    assert decode(data) == message
    assert message.key == b"AbC-12_x"


def test_dead_letter_round_trip_keeps_reason_and_raw() -> None:
    letter = DeadLetter("job1", "the build failed: 글씨", attempts=3, raw=None)
    assert decode(encode(letter)) == letter
    unreadable = DeadLetter(None, "not JSON", raw="\x00garbage")
    assert decode(encode(unreadable)) == unreadable
    assert unreadable.key is None


def test_messages_are_frozen() -> None:
    message = JobMessage("j1")
    with pytest.raises(AttributeError):
        message.job_id = "j2"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b"", "empty"),
        (None, "empty"),
        (b"\xff\xfe not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"type": "job", "job_id": "j1"}', "schema version None"),
        (b'{"type": "job", "job_id": "j1", "schema_version": 2}', "schema version 2"),
        (b'{"type": "hello", "schema_version": 1}', "type 'hello' is unknown"),
        (b'{"type": "job", "schema_version": 1}', "lacks the field 'job_id'"),
        (b'{"type": "job", "schema_version": 1, "job_id": 5}', "must be a string"),
        (b'{"type": "job", "schema_version": 1, "job_id": "../etc"}', "not a valid job id"),
    ],
)
def test_decode_refuses_what_it_cannot_read(payload: bytes | None, words: str) -> None:
    with pytest.raises(MessageError, match=words.replace("(", r"\(").replace(")", r"\)")):
        decode(payload)


def test_message_error_is_a_value_error() -> None:
    assert issubclass(MessageError, ValueError)
