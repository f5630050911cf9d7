"""The queue contract: versioned, frozen message types and their one encode/decode.

Example:
    data = encode(JobMessage(job_id="j-1"))      # b'{"job_id":"j-1","schema_version":1,"type":"job"}'
    decode(data)                                  # JobMessage(job_id='j-1', schema_version=1)

The jobs topic carries JobMessage keyed by job id; a message only names a job: the database row is
the truth, so a message may arrive twice or late and the handler must not care.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

SCHEMA_VERSION = 1
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class MessageError(ValueError):
    """A queue payload that is not a message we understand (garbage, unknown type or version)."""


@dataclass(frozen=True)
class JobMessage:
    """Build the font for this job. Sent on the jobs topic, keyed by job id."""

    job_id: str
    schema_version: int = SCHEMA_VERSION
    type: Literal["job"] = "job"

    def __post_init__(self) -> None:
        if not _JOB_ID.match(self.job_id):
            raise MessageError(f"job id {self.job_id!r} is not a valid job id")

    @property
    def key(self) -> bytes:
        return self.job_id.encode()


@dataclass(frozen=True)
class DeadLetter:
    """A job that ran out of attempts (or a payload nobody could read). Sent on the dead-letter topic."""

    job_id: str | None
    reason: str
    attempts: int = 0
    raw: str | None = None  # the undecodable payload, when there was one
    schema_version: int = SCHEMA_VERSION
    type: Literal["dead"] = "dead"

    @property
    def key(self) -> bytes | None:
        return self.job_id.encode() if self.job_id else None


Message = JobMessage | DeadLetter


def encode(message: Message) -> bytes:
    """Return the message as compact UTF-8 JSON."""
    payload = {k: v for k, v in message.__dict__.items() if v is not None}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def decode(data: bytes | None) -> Message:
    """Parse a payload from the queue; raise MessageError saying what is wrong with it."""
    if not data:
        raise MessageError("the message is empty")
    try:
        payload: Any = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageError(f"the message is not JSON ({exc})") from None
    if not isinstance(payload, dict):
        raise MessageError("the message is not a JSON object")
    version = payload.get("schema_version")
    if version != SCHEMA_VERSION:
        raise MessageError(
            f"message schema version {version!r} is not supported (this code reads version {SCHEMA_VERSION})"
        )
    kind = payload.get("type")
    try:
        if kind == "job":
            job_id = payload["job_id"]
            if not isinstance(job_id, str):
                raise MessageError("job_id must be a string")
            return JobMessage(job_id=job_id)
        if kind == "dead":
            return DeadLetter(
                job_id=payload.get("job_id"),
                reason=str(payload["reason"]),
                attempts=int(payload.get("attempts", 0)),
                raw=payload.get("raw"),
            )
    except KeyError as exc:
        raise MessageError(f"the {kind} message lacks the field {exc.args[0]!r}") from None
    raise MessageError(f"message type {kind!r} is unknown")
