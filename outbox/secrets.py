"""Encryption at rest for secrets (Xero tokens, client secrets, webhook secrets).

``SecretBox`` seals a secret with AES-256-GCM under a key derived from ``SYNCLEDGER_SECRET_KEY``,
binding each sealed value to a context string (e.g. the organisation and the field) so a value
copied into another row does not open. Sealed values are text (base64) and never contain the
secret in clear.

    OutboxError                     outbox/errors.py
    └── SecretError
        ├── SecretKeyMissingError   no key configured, but a secret must be stored or read
        └── SecretUnreadableError   wrong key, or the value was tampered with
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from outbox.errors import OutboxError

MIN_KEY_LENGTH = 16
VERSION = "v1"


class SecretError(OutboxError):
    """Base of the secret-box errors."""


class SecretKeyMissingError(SecretError):
    """A secret must be stored or read but no key is configured."""


class SecretUnreadableError(SecretError):
    """A sealed secret does not open with this key (wrong key, or tampered with)."""


class SecretBox:
    """Seals and opens secrets with one key."""

    def __init__(self, key: str | None) -> None:
        if key is None or len(key) < MIN_KEY_LENGTH:
            raise SecretKeyMissingError(
                "SYNCLEDGER_SECRET_KEY must be set (at least 16 characters) to store Xero tokens "
                "and other secrets; generate one with: "
                'python3 -c "import secrets; print(secrets.token_urlsafe(32))"'
            )
        digest = hashlib.sha256(b"syncledger-secret-box\x00" + key.encode()).digest()
        self._aead = AESGCM(digest)

    def seal(self, secret: str, context: str) -> str:
        """The sealed text of ``secret``, bound to ``context``."""
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, secret.encode(), context.encode())
        return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode()

    def open(self, sealed: str, context: str) -> str:
        """The secret inside ``sealed`` (raises ``SecretUnreadableError``)."""
        version, _, body = sealed.partition(":")
        if version != VERSION:
            raise SecretUnreadableError(f"unknown sealed-secret format {version!r}")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            plain = self._aead.decrypt(raw[:12], raw[12:], context.encode())
        except (InvalidTag, ValueError) as exc:
            raise SecretUnreadableError(
                "a stored secret does not open with SYNCLEDGER_SECRET_KEY (was the key changed?)"
            ) from exc
        return plain.decode()
