"""Logging in and out: the login form (with its own CSRF cookie), password checks throttled per
address and client, and the session cookie they set or clear."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from syncledger.web import access, pages
from syncledger.web.auth import new_token, normal_email, same, verify_password
from syncledger.web.context import Context
from syncledger.web.forms import read_form, safe_next, too_large_form

log = logging.getLogger("syncledger.web")

LOGIN_COOKIE = "syncledger_login"
MAX_THROTTLED = 10_000
"""Addresses with recent failures kept before the old ones are forgotten."""


@dataclass
class Login:
    """``GET /login``, ``POST /login`` and ``POST /logout``."""

    ctx: Context
    _failures: dict[str, list[float]] = field(default_factory=dict)

    async def login_form(self, request: Request) -> Response:
        if await access.current(self.ctx, request) is not None:
            return RedirectResponse(safe_next(request.query_params.get("next")), 303)
        return self._login_page(request, request.query_params.get("next") or "/")

    def _login_page(
        self, request: Request, next_url: str, error: str | None = None, email: str = ""
    ) -> Response:
        csrf = new_token()
        status = 200 if error is None else 401
        answer = HTMLResponse(
            pages.login_page(csrf, safe_next(next_url), error, email), status_code=status
        )
        answer.set_cookie(
            LOGIN_COOKIE,
            csrf,
            max_age=3600,
            httponly=True,
            samesite="strict",
            secure=access.secure(self.ctx, request),
            path="/login",
        )
        return answer

    def _throttled(self, key: str) -> bool:
        now = self.ctx.clock()
        window = self.ctx.web.login_window_seconds
        if len(self._failures) > MAX_THROTTLED:
            self._failures = {
                k: times for k, times in self._failures.items() if now - times[-1] < window
            }
        recent = [t for t in self._failures.get(key, []) if now - t < window]
        if recent:
            self._failures[key] = recent
        else:
            self._failures.pop(key, None)
        return len(recent) >= self.ctx.web.login_attempts

    async def login(self, request: Request) -> Response:
        form = await read_form(request)
        if form is None:
            return too_large_form()
        email = form.get("email", "")[:254]
        password = form.get("password", "")
        next_url = form.get("next") or "/"
        if not same(form.get("csrf", ""), request.cookies.get(LOGIN_COOKIE) or "\0"):
            return self._login_page(request, next_url, "The form expired; try again.", email)
        address = normal_email(email) or email.strip().lower()
        # Throttled per address and client, so guessing at someone's password from one place
        # cannot lock them out everywhere.
        key = f"{address} {request.client.host if request.client else ''}"
        if self._throttled(key):
            answer = self._login_page(
                request, next_url, "Too many failed attempts; wait a few minutes.", email
            )
            answer.status_code = 429
            return answer
        found = (
            await self.ctx.db(lambda backend: backend.user_for_login(address))
            if normal_email(email)
            else None
        )
        user, hashed = found if found is not None else (None, None)
        matches = await asyncio.to_thread(verify_password, password, hashed)
        if user is None or not matches:
            self._failures.setdefault(key, []).append(self.ctx.clock())
            log.warning("failed login for %r from %s", address, request.client)
            return self._login_page(request, next_url, "Wrong email or password.", email)
        self._failures.pop(key, None)
        lifetime = self.ctx.web.session_seconds
        token, _ = await self.ctx.db(
            lambda backend: backend.start_session(user, self.ctx.now(), lifetime)
        )
        answer = RedirectResponse(safe_next(next_url), status_code=303)
        answer.set_cookie(
            access.SESSION_COOKIE,
            token,
            max_age=lifetime,
            httponly=True,
            samesite="lax",
            secure=access.secure(self.ctx, request),
        )
        answer.delete_cookie(LOGIN_COOKIE, path="/login")
        return answer

    async def logout(self, request: Request) -> Response:
        checked = await access.authorised_post(self.ctx, request)
        if isinstance(checked, Response):
            return checked
        (token, _), _ = checked
        await self.ctx.db(lambda backend: backend.end_session(token))
        answer = RedirectResponse("/login", status_code=303)
        answer.delete_cookie(access.SESSION_COOKIE)
        return answer
