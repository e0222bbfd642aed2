"""The change endpoint over HTTP (``POST /opensolar/changes``): the body read up to its limit,
the organisation authenticated by its secret or an HMAC signature of the body, the valid
changes recorded and every refused one reported. The rules apart from HTTP are in
``syncledger.web.changes``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from syncledger import service
from syncledger.web.auth import new_token, same, signature_matches
from syncledger.web.changes import (
    ORG_HEADER,
    SECRET_HEADER,
    SIGNATURE_HEADER,
    BodyError,
    Problem,
    check,
    decode_body,
    org_of,
    rejected_count,
)
from syncledger.web.context import Context
from syncledger.web.errors import WebhookSecretError
from syncledger.web.forms import error, read_body

log = logging.getLogger("syncledger.web")

_DUMMY_SECRET = new_token()
"""Checked against when an organisation has no secret, so that costs the same as a wrong one."""


@dataclass
class Intake:
    """``POST /opensolar/changes``."""

    ctx: Context

    async def changes(self, request: Request) -> Response:
        limit = self.ctx.web.max_body_bytes
        raw = await read_body(request, limit)
        if raw is None:
            return error(
                413, f"the body is larger than {limit} bytes: send fewer changes per request"
            )
        secret = request.headers.get(SECRET_HEADER)
        signed = request.headers.get(SIGNATURE_HEADER)
        if not secret and not signed:
            return error(
                401,
                f"send the organisation's secret in {SECRET_HEADER}, or sign the "
                f"body with it in {SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256>",
            )
        try:
            items = decode_body(raw)
        except BodyError as exc:
            return JSONResponse(_refusal([exc.problem]), status_code=400)
        org = (request.headers.get(ORG_HEADER) or "").strip() or org_of(items)
        if org is None:
            return error(
                401, f"the changes name no single organisation: send {ORG_HEADER}: <org id>"
            )
        try:
            stored: str | None = await self.ctx.db(lambda backend: backend.webhook_secret(org))
        except WebhookSecretError as exc:
            log.error("change endpoint: %s", exc)
            return error(503, "the server cannot check webhook secrets; nothing was recorded")
        expected = stored or _DUMMY_SECRET
        valid = True
        if secret:
            valid = same(secret, expected) and valid
        if signed:
            valid = signature_matches(expected, raw, signed) and valid
        if stored is None or not valid:
            log.warning(
                "change endpoint: bad secret for organisation %r from %s", org, request.client
            )
            return error(401, f"bad secret or signature for organisation {org}")
        return await self._record(org, items)

    async def _record(self, org: str, items: list[Any]) -> Response:
        """Record the valid changes of an authenticated request; report the refused ones."""
        checked = check(items, org)
        report = service.IngestReport()
        if checked.valid:
            report = await self.ctx.db(lambda backend: backend.ingest(checked.valid))
        problems = list(checked.problems)
        if report.rejected:
            problems.extend(Problem(None, "(change)", r.reason) for r in report.rejected)
        answer = {
            "ingested": report.ingested,
            "duplicates": report.duplicates,
            "rejected": rejected_count(problems),
            "errors": [p.as_json() for p in sorted(problems, key=_problem_order)],
        }
        log.info(
            "change endpoint: organisation %s ingested %d, duplicates %d, rejected %d",
            org,
            report.ingested,
            report.duplicates,
            answer["rejected"],
        )
        return JSONResponse(answer, status_code=400 if problems else 202)


def _refusal(problems: list[Problem]) -> dict[str, Any]:
    return {
        "ingested": 0,
        "duplicates": 0,
        "rejected": rejected_count(problems),
        "errors": [p.as_json() for p in problems],
    }


def _problem_order(problem: Problem) -> int:
    return -1 if problem.index is None else problem.index
