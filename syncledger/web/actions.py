"""The page's actions: Retry a Failed document, Sync a Not Attempted one, Retry every Failed
document in scope. Each is a CSRF-checked form post that records who asked, then answers with
JSON (the page's scripts) or a redirect back to the page with a notice."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from domain.errors import DocumentNotFoundError
from syncledger import service
from syncledger.web import access, wording
from syncledger.web.backend import Backend
from syncledger.web.context import Context
from syncledger.web.forms import doc_id, error, wants_json
from syncledger.web.pages import Filters

log = logging.getLogger("syncledger.web")

Action = Callable[[Backend, str, str | None, str], service.CommandReport]
"""A ``Backend`` call on one document: (document id, organisation scope, who asked)."""


@dataclass
class Actions:
    """``POST /documents/{id}/retry``, ``/documents/{id}/sync`` and ``/documents/retry-failed``."""

    ctx: Context

    async def retry(self, request: Request) -> Response:
        return await self._act(request, Backend.retry)

    async def sync(self, request: Request) -> Response:
        return await self._act(request, Backend.sync)

    async def _act(self, request: Request, action: Action) -> Response:
        checked = await access.authorised_post(self.ctx, request)
        if isinstance(checked, Response):
            return checked
        (_, session), form = checked
        wanted = doc_id(request)
        if wanted is None:
            return error(404, "no such document")
        within = access.visible_org(session)
        try:
            who = session.user.email
            report = await self.ctx.db(lambda backend: action(backend, wanted, within, who))
        except DocumentNotFoundError:
            return error(404, "no such document")
        log.info(
            "%s of %s by %s: %s",
            action.__name__,
            wanted,
            session.user.email,
            "; ".join(report.done or report.refused),
        )
        return reported(request, form, report)

    async def retry_failed(self, request: Request) -> Response:
        checked = await access.authorised_post(self.ctx, request)
        if isinstance(checked, Response):
            return checked
        (_, session), form = checked
        filters = access.filters_for({"org": form.get("org", "")}, session)
        scope, who = access.scope_of(session, filters), session.user.email
        report = await self.ctx.db(lambda backend: backend.retry_failed(scope, who))
        log.info("retry of every failed document by %s: %d", session.user.email, len(report.done))
        return reported(request, form, report)


def reported(request: Request, form: dict[str, str], report: service.CommandReport) -> Response:
    """The answer to an action: what was done and refused, as JSON or as the page's notice."""
    if not report.done and not report.refused:
        report.refused.append("nothing to do")
    status = 409 if report.refused and not report.done else 200
    notice = wording.notice_text(report.done, report.refused)
    if wants_json(request):
        return JSONResponse(
            {"done": report.done, "refused": report.refused, "notice": notice}, status
        )
    back = _back(form)
    query = (back + "&" if back else "") + urlencode({"notice": notice[:500]})
    return RedirectResponse(f"/?{query}", status_code=303)


def _back(form: dict[str, str]) -> str:
    """The page's filters to go back to after a form post (rebuilt, never echoed)."""
    parsed = parse_qs(form.get("back", ""))
    keep = {k: v[0] for k, v in parsed.items() if k in ("org", "status", "project") and v}
    return Filters(keep.get("status"), keep.get("project"), keep.get("org")).query()
