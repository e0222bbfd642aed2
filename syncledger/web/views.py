"""Reading the documents: the Payment Requests page, a document's details panel, and the same
data as JSON (``/api/documents``), each within what the viewer may see."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from domain.errors import DocumentNotFoundError
from projections.status import StatusView
from syncledger.web import access, pages, panel
from syncledger.web.backend import Snapshot
from syncledger.web.context import Context
from syncledger.web.forms import doc_id, error
from syncledger.web.pages import Filters
from syncledger.web.store import Session

NOT_FOUND_PANEL = panel.not_found_panel("No such document.")


def document_entry(view: StatusView) -> dict[str, Any]:
    """A document as the JSON API (and the live updates) show it."""
    return {"id": view.row.doc_id, **view.as_json()}


async def snapshot_for(ctx: Context, session: Session, filters: Filters) -> Snapshot:
    """What the page shows this viewer with these filters."""
    scope = access.scope_of(session, filters)
    found: Snapshot = await ctx.db(
        lambda backend: backend.snapshot(scope, filters.status, filters.project)
    )
    return found


@dataclass
class Views:
    """``GET /``, ``GET /documents/{id}/panel`` and ``GET /api/documents[/{id}]``."""

    ctx: Context

    async def page(self, request: Request) -> Response:
        found = await access.current(self.ctx, request)
        if found is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        _, session = found
        filters = access.filters_for(request.query_params, session)
        snapshot = await snapshot_for(self.ctx, session, filters)
        shown = ""
        doc = request.query_params.get("doc")
        if doc:
            shown = await self._panel_html(doc, session, filters) or NOT_FOUND_PANEL
        notice = (request.query_params.get("notice") or "")[:500]
        return HTMLResponse(pages.documents_page(session, snapshot, filters, shown, notice))

    async def _panel_html(self, doc: str, session: Session, filters: Filters) -> str | None:
        """The details panel of a document the viewer may see, or None."""
        try:
            wanted = str(uuid.UUID(doc))
            within = access.visible_org(session)
            details = await self.ctx.db(lambda backend: backend.details(wanted, within))
        except (ValueError, DocumentNotFoundError):
            return None
        return panel.panel_html(details, session, filters)

    async def panel(self, request: Request) -> Response:
        found = await access.current(self.ctx, request)
        if found is None:
            return access.not_logged_in()
        _, session = found
        filters = access.filters_for(request.query_params, session)
        wanted = doc_id(request)
        html = await self._panel_html(wanted, session, filters) if wanted else None
        if html is None:
            return HTMLResponse(NOT_FOUND_PANEL, status_code=404)
        return HTMLResponse(html)

    async def documents_json(self, request: Request) -> Response:
        found = await access.current(self.ctx, request)
        if found is None:
            return access.not_logged_in()
        _, session = found
        filters = access.filters_for(request.query_params, session)
        snapshot = await snapshot_for(self.ctx, session, filters)
        return JSONResponse(
            {"documents": [document_entry(v) for v in snapshot.views], "counts": snapshot.counts}
        )

    async def document_json(self, request: Request) -> Response:
        found = await access.current(self.ctx, request)
        if found is None:
            return access.not_logged_in()
        _, session = found
        wanted = doc_id(request)
        try:
            if wanted is None:
                raise DocumentNotFoundError("no such document")
            within = access.visible_org(session)
            details = await self.ctx.db(lambda backend: backend.details(wanted, within))
        except DocumentNotFoundError:
            return error(404, "no such document")
        return JSONResponse(
            {
                "document": document_entry(details.view),
                "history": details.events,
                "links": [{"label": link.label, "url": link.url} for link in details.links],
            }
        )
