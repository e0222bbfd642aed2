"""The web side's own tables, in portable SQL over any ``Database`` backend:

- ``web_users``: who may log in, their organisation, whether they administer every
  organisation, and a salted scrypt hash of their password;
- ``web_sessions``: logged-in sessions, keyed by the SHA-256 of the session token (the token
  itself is only ever in the browser's cookie), with their CSRF token and expiry;
- ``web_webhook_secrets``: each organisation's change-endpoint secret, sealed with ``SecretBox``.

These tables are not projections of the log: they hold credentials, which never go into the
ledger, and a replay leaves them alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from outbox.secrets import SecretBox, SecretError
from projections.storage.database import Database
from syncledger.web.auth import new_token, token_digest
from syncledger.web.errors import AccountError, WebhookSecretError


def _ddl(db: Database) -> list[str]:
    return [
        f"""CREATE TABLE IF NOT EXISTS web_users (
            {db.dialect.id_column},
            email TEXT NOT NULL UNIQUE,
            org TEXT NOT NULL,
            is_admin INTEGER NOT NULL,
            password_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE IF NOT EXISTS web_sessions (
            token_hash TEXT PRIMARY KEY,
            user_id BIGINT NOT NULL,
            csrf TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS web_sessions_user ON web_sessions (user_id)",
        "CREATE INDEX IF NOT EXISTS web_sessions_expires ON web_sessions (expires_at)",
        """CREATE TABLE IF NOT EXISTS web_webhook_secrets (
            org TEXT PRIMARY KEY,
            sealed TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
    ]


@dataclass(frozen=True)
class User:
    """Someone who may log in to the Payment Requests page."""

    id: int
    email: str
    org: str
    is_admin: bool
    created_at: str


@dataclass(frozen=True)
class Session:
    """A logged-in session: whose it is, its CSRF token, and when it ends (epoch seconds)."""

    user: User
    csrf: str
    expires_at: int


@dataclass(frozen=True)
class SecretInfo:
    """That an organisation has a webhook secret, and since when (never the secret)."""

    org: str
    created_at: str


_USER = "u.id, u.email, u.org, u.is_admin, u.created_at"


def _user(values: tuple[object, ...]) -> User:
    return User(
        int(str(values[0])), str(values[1]), str(values[2]), bool(values[3]), str(values[4])
    )


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class WebStore:
    """Users, sessions and webhook secrets on a ``Database``."""

    TABLES: tuple[str, ...] = ("web_users", "web_sessions", "web_webhook_secrets")
    """The tables this store creates (the composition root lists every store's)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.script(_ddl(db))

    # users ------------------------------------------------------------------------------------

    def add_user(self, org: str, email: str, password_hash: str, *, is_admin: bool) -> User:
        """Create a user (raises ``AccountError`` if the email is taken)."""
        with self.db.write() as tx:
            added = tx.execute(
                "INSERT INTO web_users (email, org, is_admin, password_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO NOTHING",
                (email, org, int(is_admin), password_hash, _now_text()),
            )
            if added != 1:
                raise AccountError(f"a user {email} already exists")
            found = tx.one(f"SELECT {_USER} FROM web_users u WHERE u.email=?", (email,))
        if found is None:
            raise AccountError(f"the user {email} could not be created")
        return _user(found)

    def user_for_login(self, email: str) -> tuple[User, str] | None:
        """A user and their password hash, by email."""
        with self.db.read() as tx:
            found = tx.one(
                f"SELECT {_USER}, u.password_hash FROM web_users u WHERE u.email=?", (email,)
            )
        if found is None:
            return None
        return _user(found[:5]), str(found[5])

    def users(self) -> list[User]:
        """Every user, by organisation and email."""
        with self.db.read() as tx:
            found = tx.all(f"SELECT {_USER} FROM web_users u ORDER BY u.org, u.email")
        return [_user(r) for r in found]

    def remove_user(self, email: str) -> None:
        """Delete a user and end their sessions (raises ``AccountError`` if unknown)."""
        with self.db.write() as tx:
            found = tx.one("SELECT id FROM web_users WHERE email=?", (email,))
            if found is None:
                raise AccountError(f"no user {email}")
            tx.execute("DELETE FROM web_sessions WHERE user_id=?", (found[0],))
            tx.execute("DELETE FROM web_users WHERE id=?", (found[0],))

    def set_password(self, email: str, password_hash: str) -> None:
        """Replace a user's password and end their sessions (raises ``AccountError``)."""
        with self.db.write() as tx:
            found = tx.one("SELECT id FROM web_users WHERE email=?", (email,))
            if found is None:
                raise AccountError(f"no user {email}")
            tx.execute("UPDATE web_users SET password_hash=? WHERE id=?", (password_hash, found[0]))
            tx.execute("DELETE FROM web_sessions WHERE user_id=?", (found[0],))

    # sessions ---------------------------------------------------------------------------------

    def start_session(self, user: User, now: int, lifetime: int) -> tuple[str, Session]:
        """A new session for ``user``: its token (for the cookie) and the session. Expired
        sessions of everyone are deleted on the way."""
        token, csrf = new_token(), new_token()
        expires = now + lifetime
        with self.db.write() as tx:
            tx.execute("DELETE FROM web_sessions WHERE expires_at<=?", (now,))
            tx.execute(
                "INSERT INTO web_sessions (token_hash, user_id, csrf, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (token_digest(token), user.id, csrf, now, expires),
            )
        return token, Session(user, csrf, expires)

    def session(self, token: str, now: int) -> Session | None:
        """The live session a token opens, or None (unknown, expired, or its user removed)."""
        with self.db.read() as tx:
            found = tx.one(
                f"SELECT {_USER}, s.csrf, s.expires_at FROM web_sessions s "
                "JOIN web_users u ON u.id = s.user_id WHERE s.token_hash=? AND s.expires_at>?",
                (token_digest(token), now),
            )
        if found is None:
            return None
        return Session(_user(found[:5]), str(found[5]), int(str(found[6])))

    def end_session(self, token: str) -> None:
        """Log a session out."""
        with self.db.write() as tx:
            tx.execute("DELETE FROM web_sessions WHERE token_hash=?", (token_digest(token),))

    # webhook secrets --------------------------------------------------------------------------

    def create_webhook_secret(self, org: str, box: SecretBox, *, rotate: bool) -> str:
        """A new random secret for an organisation's change endpoint, stored sealed; returned
        in clear this once. Without ``rotate``, an existing secret is an ``WebhookSecretError``."""
        secret = new_token()
        sealed = box.seal(secret, _context(org))
        with self.db.write() as tx:
            if rotate:
                tx.execute(
                    "INSERT INTO web_webhook_secrets (org, sealed, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (org) DO UPDATE SET sealed=excluded.sealed, "
                    "created_at=excluded.created_at",
                    (org, sealed, _now_text()),
                )
            else:
                added = tx.execute(
                    "INSERT INTO web_webhook_secrets (org, sealed, created_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (org) DO NOTHING",
                    (org, sealed, _now_text()),
                )
                if added != 1:
                    raise WebhookSecretError(
                        f"organisation {org} already has a webhook secret; it is shown only "
                        "once: use --rotate to replace it (the old one stops working at once)"
                    )
        return secret

    def webhook_secret(self, org: str, box: SecretBox) -> str | None:
        """An organisation's webhook secret in clear, or None if it has none (raises
        ``WebhookSecretError`` if it does not open with this key)."""
        with self.db.read() as tx:
            found = tx.one("SELECT sealed FROM web_webhook_secrets WHERE org=?", (org,))
        if found is None:
            return None
        try:
            return box.open(str(found[0]), _context(org))
        except SecretError as exc:
            raise WebhookSecretError(f"organisation {org}'s webhook secret: {exc}") from exc

    def webhook_secrets(self) -> list[SecretInfo]:
        """Which organisations have a webhook secret."""
        with self.db.read() as tx:
            found = tx.all("SELECT org, created_at FROM web_webhook_secrets ORDER BY org")
        return [SecretInfo(str(org), str(created)) for org, created in found]

    def revoke_webhook_secret(self, org: str) -> bool:
        """Delete an organisation's webhook secret; False if it had none."""
        with self.db.write() as tx:
            return tx.execute("DELETE FROM web_webhook_secrets WHERE org=?", (org,)) == 1


def _context(org: str) -> str:
    return f"web_webhook_secrets:{org}"
