"""Who is asking and what they may see: the session a request's cookie opens, the filters and
organisation scope of a viewer, and the checks (session, form size, CSRF token, Origin) every
state-changing request passes. Users of an organisation see that organisation's documents
only; administrators see every organisation's."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from domain.vocabulary import Status
from syncledger.web.auth import same
from syncledger.web.context import Context
from syncledger.web.forms import error, read_form, too_large_form, wants_json
from syncledger.web.pages import Filters
from syncledger.web.store import Session

SESSION_COOKIE = "syncledger_session"
CSRF_HEADER = "X-CSRF-Token"
MAX_PROJECT = 64
"""Characters of a project filter kept."""

Found = tuple[str, Session]
"""A session and the token that opened it."""


async def current(ctx: Context, request: Request) -> Found | None:
    """The live session the request's cookie opens, with its token, or None."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 200:
        return None
    found: Session | None = await ctx.db(lambda backend: backend.session(token, ctx.now()))
    return (token, found) if found is not None else None


def not_logged_in() -> Response:
    """The answer to a request that needs a session and has none."""
    return error(401, "log in first")


def secure(ctx: Context, request: Request) -> bool:
    """Whether cookies are marked Secure (always, or when the request came over HTTPS)."""
    return ctx.web.secure_cookies or request.url.scheme == "https"


def filters_for(source: Mapping[str, str], session: Session) -> Filters:
    """The page's filters from a query or form (an organisation only for administrators)."""
    status = source.get("status") or None
    if status not in tuple(Status):
        status = None
    project = (source.get("project") or "").strip()[:MAX_PROJECT] or None
    org = (source.get("org") or "").strip() or None
    return Filters(status, project, org if session.user.is_admin else None)


def scope_of(session: Session, filters: Filters) -> str | None:
    """Whose documents a viewer sees: their organisation, or (administrators) the one chosen,
    or every one."""
    return filters.org if session.user.is_admin else session.user.org


def visible_org(session: Session) -> str | None:
    """The organisation a viewer may reach documents of (None: every one, for administrators)."""
    return None if session.user.is_admin else session.user.org


def origin_ok(request: Request) -> bool:
    """A browser's Origin, when sent, must be this site's host (compared by host and port
    only, so a TLS proxy in front changes nothing)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()


async def authorised_post(
    ctx: Context, request: Request
) -> tuple[Found, dict[str, str]] | Response:
    """The session and form of a state-changing request, or the answer refusing it."""
    found = await current(ctx, request)
    if found is None:
        if wants_json(request):
            return not_logged_in()
        return RedirectResponse("/login", status_code=303)
    form = await read_form(request)
    if form is None:
        return too_large_form()
    given = request.headers.get(CSRF_HEADER) or form.get("csrf", "")
    if not same(given, found[1].csrf) or not origin_ok(request):
        return error(403, "the form has expired or did not come from this site; reload")
    return found, form
