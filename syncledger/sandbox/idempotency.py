"""Xero's Idempotency-Key store (notes §2).

A key (scoped to the calling client, or global in open mode) is remembered for a window (6
minutes by default) from its first use, together with a fingerprint of the request (tenant,
method, path with query, body) and the response it got, whatever its status (500s included).
Within the window the same request is answered with the stored response; a different request
under the same key is refused; a repeat that arrives while the first is still running waits for
it and gets its response. Expired keys are forgotten and treated as new.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from syncledger.sandbox.exchange import Response

MAX_KEY_LENGTH = 128


def fingerprint(tenant_id: str, method: str, path: str, query: str, body: bytes) -> str:
    """A digest identifying "the same request"."""
    digest = hashlib.sha256()
    for part in (tenant_id, method, path, query):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x00")
    digest.update(body)
    return digest.hexdigest()


@dataclass
class _Entry:
    fingerprint: str
    created_at: float
    done: threading.Event = field(default_factory=threading.Event)
    response: Response | None = None


@dataclass(frozen=True)
class Claim:
    """The caller owns the key and must `complete` or `abandon` it."""

    key: tuple[str, str]
    entry: _Entry


@dataclass(frozen=True)
class Replay:
    """The key was used for this request before: answer with `response`."""

    response: Response


@dataclass(frozen=True)
class Conflict:
    """The key was used for a different request."""


class IdempotencyStore:
    """Thread-safe store of idempotency keys and their responses."""

    def __init__(self, window_s: float, stop: threading.Event) -> None:
        self.window_s = window_s
        self._stop = stop
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def _expire(self, now: float) -> None:
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.created_at + self.window_s > now:
                break
            if not entry.done.is_set():
                break
            del self._entries[key]

    def begin(self, scope: str, key: str, print_: str, now: float) -> Claim | Replay | Conflict:
        """Claim the key, or learn that it must be replayed or refused."""
        full_key = (scope, key)
        while True:
            with self._lock:
                self._expire(now)
                entry = self._entries.get(full_key)
                expired = entry is not None and entry.created_at + self.window_s <= now
                if entry is not None and expired and entry.done.is_set():
                    del self._entries[full_key]
                    entry = None
                if entry is None:
                    fresh = _Entry(print_, now)
                    self._entries[full_key] = fresh
                    return Claim(full_key, fresh)
                if entry.fingerprint != print_:
                    return Conflict()
                if entry.done.is_set() and entry.response is not None:
                    return Replay(entry.response)
            # A concurrent repeat: wait for the first request to finish, then look again.
            while not entry.done.wait(0.05):
                if self._stop.is_set():
                    return Conflict()

    def complete(self, claim: Claim, response: Response) -> None:
        """Store the response of a claimed key and wake any waiting repeats."""
        with self._lock:
            claim.entry.response = Response(
                response.status, response.body, response.content_type, list(response.headers)
            )
            claim.entry.done.set()

    def abandon(self, claim: Claim) -> None:
        """Forget a claimed key without a response (the request never ran)."""
        with self._lock:
            if self._entries.get(claim.key) is claim.entry:
                del self._entries[claim.key]
            claim.entry.done.set()

    def clear(self) -> None:
        """Forget every key."""
        with self._lock:
            for entry in self._entries.values():
                entry.done.set()
            self._entries.clear()
