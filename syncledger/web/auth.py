"""Credentials: salted scrypt password hashes, random tokens, HMAC-SHA256 body signatures, and
constant-time comparison for every secret the web side checks."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024
SIGNATURE_PREFIX = "sha256="
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=HASH_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """A salted scrypt hash of a password: ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


@functools.cache
def _dummy_hash() -> str:
    return hash_password(secrets.token_urlsafe(16))


def verify_password(password: str, encoded: str | None) -> bool:
    """True if ``password`` matches the stored hash (constant time). With no hash, the same work
    is done against a dummy, so an unknown email takes as long as a wrong password."""
    target = encoded or _dummy_hash()
    try:
        scheme, n, r, p, salt, digest = target.split("$")
        if scheme != "scrypt":
            return False
        found = _scrypt(password[:MAX_PASSWORD_LENGTH], _unb64(salt), int(n), int(r), int(p))
        expected = _unb64(digest)
    except ValueError:
        return False
    return hmac.compare_digest(found, expected) and encoded is not None


def password_problem(password: str) -> str | None:
    """Why a password cannot be used, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password must have at most {MAX_PASSWORD_LENGTH} characters"
    return None


def normal_email(email: str) -> str | None:
    """An email address in the form stored (trimmed, lower case), or None if it is not one."""
    text = email.strip().lower()
    if len(text) > 254 or not _EMAIL.match(text):
        return None
    return text


def new_token() -> str:
    """A random token for sessions, CSRF and webhook secrets (256 bits)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored of a session token: its SHA-256, so a copy of the table opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def signature(secret: str, body: bytes) -> str:
    """The ``X-Syncledger-Signature`` header value for a body: ``sha256=<hex>``."""
    return SIGNATURE_PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str) -> bool:
    """True if ``header`` is the HMAC-SHA256 signature of ``body`` under ``secret``."""
    return same(header.strip().lower(), signature(secret, body))
