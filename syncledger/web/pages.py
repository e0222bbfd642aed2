"""The HTML of the web side, rendered on the server: the login page, the Payment Requests page,
its table rows and summary (also sent as-is over server-sent events), and the Accounting Sync
chip; the details panel is in ``syncledger.web.panel``. Every value is escaped (``esc``); the
page loads one stylesheet and one script and runs no inline code, so the
Content-Security-Policy can forbid inline scripts and styles. What the page says of reasons and
actions comes from ``syncledger.web.wording``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from domain.vocabulary import Status
from projections.status import StatusRow, StatusView, money
from syncledger.web.assets import asset_url
from syncledger.web.backend import Snapshot
from syncledger.web.store import Session
from syncledger.web.wording import chip_label, page_action, page_words

ROW_LIMIT = 500
"""Rows rendered (and pushed live) at most; the counts always cover every document."""

CHIP_CLASS: dict[str, str] = {
    Status.SYNCED: "synced",
    Status.PENDING: "pending",
    Status.NOT_ATTEMPTED: "not-attempted",
    Status.FAILED: "failed",
}


@dataclass(frozen=True)
class Column:
    """A column of the documents table."""

    key: str
    title: str
    hideable: bool = True
    admin_only: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("number", "Number", hideable=False),
    Column("org", "Organisation", admin_only=True),
    Column("type", "Type"),
    Column("customer", "Customer"),
    Column("project", "Project"),
    Column("amount", "Amount"),
    Column("date", "Date"),
    Column("sync", "Accounting Sync"),
    Column("actions", "Actions", hideable=False),
)


@dataclass(frozen=True)
class Filters:
    """The page's filters; ``org`` only ever set for administrators."""

    status: str | None = None
    project: str | None = None
    org: str | None = None

    def query(self, **extra: str) -> str:
        pairs = [
            (k, v)
            for k, v in (("org", self.org), ("status", self.status), ("project", self.project))
            if v
        ]
        pairs.extend((k, v) for k, v in extra.items() if v)
        return urlencode(pairs)


def esc(value: object) -> str:
    """A value as HTML text or attribute (None as nothing)."""
    return escape("" if value is None else str(value), quote=True)


def columns_for(session: Session) -> list[Column]:
    return [c for c in COLUMNS if session.user.is_admin or not c.admin_only]


def empty_text(snapshot: Snapshot, session: Session, filters: Filters) -> str:
    """What an empty table says: that there are no documents at all yet, or that the filters
    leave none."""
    if snapshot.orgs:
        return "No documents match these filters."
    later = "they appear here when OpenSolar sends them."
    if not session.user.is_admin:
        return f"No documents yet for this organisation — {later}"
    if filters.org:
        return f"No documents yet for organisation {filters.org} — {later}"
    return f"No documents yet for any organisation — {later}"


def _layout(title: str, body: str, csrf: str | None = None, body_class: str = "") -> str:
    meta = f'<meta name="csrf-token" content="{esc(csrf)}">' if csrf else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{meta}\n<title>{esc(title)}</title>\n"
        f'<link rel="icon" type="image/svg+xml" href="{asset_url("favicon.svg")}">\n'
        f'<link rel="stylesheet" href="{asset_url("app.css")}">\n'
        f'<script src="{asset_url("app.js")}" defer></script>\n'
        f'</head>\n<body class="{esc(body_class)}">\n{body}\n</body>\n</html>\n'
    )


# login ----------------------------------------------------------------------------------------


def login_page(csrf: str, next_url: str, error: str | None = None, email: str = "") -> str:
    """The login form."""
    problem = f'<p class="form-error" role="alert">{esc(error)}</p>' if error else ""
    shown = esc(email)
    body = f"""<main class="login">
<form class="card login-card" method="post" action="/login">
  <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span>syncledger</div>
  <h1>Log in</h1>
  <p class="muted">See your Payment Requests and their sync to Xero.</p>
  {problem}
  <label class="field">Email
    <input type="email" name="email" value="{shown}" autocomplete="username" required autofocus>
  </label>
  <label class="field">Password
    <input type="password" name="password" autocomplete="current-password" required>
  </label>
  <input type="hidden" name="csrf" value="{esc(csrf)}">
  <input type="hidden" name="next" value="{esc(next_url)}">
  <button class="btn btn-primary btn-block" type="submit">Log in</button>
</form>
</main>"""
    return _layout("Log in · syncledger", body, body_class="login-body")


# the page -------------------------------------------------------------------------------------


def tooltip_text(view: StatusView) -> str:
    """What the Accounting Sync chip's tooltip says first: the error, or why it is where it is
    (in the page's words)."""
    row = view.row
    if row.status == Status.FAILED:
        text = row.error or view.reason or Status.FAILED
    elif row.status == Status.SYNCED:
        text = view.reason or "Accepted by Xero"
        text = f"{text} (Xero id {row.xero_id})" if row.xero_id else text
    else:
        text = view.reason or row.status
    return page_words(text)


def chip(view: StatusView, where: str = "tip") -> str:
    """The Accounting Sync chip: focusable, with a tooltip holding the error or reason and, for
    a Failed document, what to do; screen readers hear both (``aria-describedby``). ``where``
    keeps ids unique when the same document's chip is also in the details panel."""
    row = view.row
    label, variant = chip_label(row)
    tip_id = f"{where}-{row.doc_id}"
    text_id, todo_id = f"{tip_id}-text", f"{tip_id}-todo"
    todo = page_action(row)
    described = f"{text_id} {todo_id}" if todo else text_id
    todo_html = (
        f'<span class="tip-todo" id="{esc(todo_id)}">To do: {esc(todo)}</span>' if todo else ""
    )
    classes = f"chip chip-{CHIP_CLASS.get(row.status, 'pending')}"
    if variant:
        classes += f" chip-{variant}"
    return (
        f'<span class="{classes}" tabindex="0" data-status="{esc(row.status)}" '
        f'data-label="{esc(label)}" aria-describedby="{esc(described)}">'
        f'<span class="chip-dot" aria-hidden="true"></span>'
        f'<span class="chip-label">{esc(label)}</span>'
        f'<span class="tip" role="tooltip" id="{esc(tip_id)}">'
        f'<span class="tip-text" id="{esc(text_id)}">{esc(tooltip_text(view))}</span>'
        f"{todo_html}</span></span>"
    )


def row_action(row: StatusRow, session: Session, filters: Filters) -> str:
    """The button the page offers for a document: Retry (Failed, unless it only waits for its
    invoice) or Sync (Not Attempted and sendable)."""
    if row.status == Status.FAILED and not row.blocked:
        return _action(row.doc_id, "retry", "Retry", session.csrf, filters)
    if row.status == Status.NOT_ATTEMPTED and row.note is None:
        return _action(row.doc_id, "sync", "Sync", session.csrf, filters)
    return ""


def _action(doc_id: str, verb: str, label: str, csrf: str, filters: Filters) -> str:
    return (
        f'<form class="inline" method="post" action="/documents/{esc(doc_id)}/{verb}" '
        f'data-ajax="{verb}">'
        f'<input type="hidden" name="csrf" value="{esc(csrf)}">'
        f'<input type="hidden" name="back" value="{esc(filters.query())}">'
        f'<button class="btn btn-small btn-{verb}" type="submit">{esc(label)}</button>'
        "</form>"
    )


def row_html(view: StatusView, session: Session, filters: Filters) -> str:
    """One document's table row."""
    row = view.row
    cells: list[str] = []
    for column in columns_for(session):
        key = column.key
        if key == "number":
            href = "/?" + filters.query(doc=row.doc_id)
            content = (
                f'<a class="doc-link" href="{esc(href)}" data-doc="{esc(row.doc_id)}">'
                f"{esc(row.number)}</a>"
            )
        elif key == "org":
            content = esc(row.org)
        elif key == "type":
            content = f'<span class="kind kind-{esc(row.kind)}">{esc(row.kind.capitalize())}</span>'
        elif key == "customer":
            content = esc(row.customer) or '<span class="muted">—</span>'
        elif key == "project":
            content = esc(row.project) or '<span class="muted">—</span>'
        elif key == "amount":
            content = (
                f"{esc(money(row.amount))} <span class='currency'>{esc(row.currency or '')}</span>"
            )
        elif key == "date":
            content = f'<time datetime="{esc(row.doc_date)}">{esc(row.doc_date)}</time>'
        elif key == "sync":
            content = chip(view)
        else:
            content = row_action(row, session, filters)
        numeric = ' class="num"' if key == "amount" else ""
        cells.append(f'<td data-col="{key}"{numeric}>{content}</td>')
    return (
        f'<tr data-doc="{esc(row.doc_id)}" data-number="{esc(row.number)}" '
        f'data-status="{esc(row.status)}">' + "".join(cells) + "</tr>"
    )


def rows_html(snapshot: Snapshot, session: Session, filters: Filters) -> str:
    """The table body: the newest ``ROW_LIMIT`` documents, and a note if there are more (or
    why there are none)."""
    views = snapshot.views
    span = len(columns_for(session))
    if not views:
        text = esc(empty_text(snapshot, session, filters))
        return f'<tr class="empty"><td colspan="{span}">{text}</td></tr>'
    body = "\n".join(row_html(v, session, filters) for v in views[:ROW_LIMIT])
    if len(views) > ROW_LIMIT:
        body += (
            f'\n<tr class="empty more"><td colspan="{span}">Showing the newest {ROW_LIMIT} of '
            f"{len(views):,} documents: filter by status or project to see the others.</td></tr>"
        )
    return body


def summary_html(snapshot: Snapshot, filters: Filters) -> str:
    """The count of documents in each status; each count filters the table to that status."""
    total = sum(snapshot.counts.values())
    items = [
        f'<a class="stat{" stat-active" if filters.status is None else ""}" '
        f'href="/?{esc(Filters(None, filters.project, filters.org).query())}" data-status="">'
        f'<span class="stat-count">{total}</span><span class="stat-label">All</span></a>'
    ]
    for status in Status:
        active = " stat-active" if filters.status == status else ""
        query = Filters(status, filters.project, filters.org).query()
        items.append(
            f'<a class="stat stat-{CHIP_CLASS[status]}{active}" href="/?{esc(query)}" '
            f'data-status="{esc(status)}"><span class="stat-count">{snapshot.counts.get(status, 0)}'
            f'</span><span class="stat-label">{esc(status)}</span></a>'
        )
    return "".join(items)


def _options(values: Sequence[str], selected: str | None, everything: str) -> str:
    out = [f'<option value="">{esc(everything)}</option>']
    for value in values:
        mark = " selected" if value == selected else ""
        out.append(f'<option value="{esc(value)}"{mark}>{esc(value)}</option>')
    return "".join(out)


def _columns_menu(session: Session) -> str:
    boxes = "".join(
        f'<label class="check"><input type="checkbox" data-col="{c.key}" checked> '
        f"{esc(c.title)}</label>"
        for c in columns_for(session)
        if c.hideable
    )
    return (
        '<details class="columns" id="columns"><summary class="btn">Columns</summary>'
        f'<div class="menu" role="group" aria-label="Columns shown">{boxes}'
        '<button type="button" class="btn btn-small btn-link" id="columns-reset">'
        "Show all</button></div></details>"
    )


def documents_page(
    session: Session, snapshot: Snapshot, filters: Filters, panel: str = "", notice: str = ""
) -> str:
    """The Payment Requests page."""
    user = session.user
    who = "Administrator (all organisations)" if user.is_admin else f"Organisation {user.org}"
    org_filter = ""
    if user.is_admin:
        org_filter = (
            '<label class="filter">Organisation <select name="org">'
            f"{_options(snapshot.orgs, filters.org, 'All organisations')}</select></label>"
        )
    status_options = _options(list(Status), filters.status, "All statuses")
    heads = "".join(
        f'<th data-col="{c.key}"{" class=num" if c.key == "amount" else ""} scope="col">'
        f"{esc(c.title)}</th>"
        for c in columns_for(session)
    )
    failed = snapshot.counts.get(Status.FAILED, 0)
    disabled = "" if failed else " disabled"
    panel_html = (
        f'<aside id="panel" class="panel" aria-label="Document details">{panel}</aside>'
        if panel
        else '<aside id="panel" class="panel" aria-label="Document details" hidden></aside>'
    )
    notice_html = esc(page_words(notice))
    notice_hidden = "" if notice else " hidden"
    body = f"""<header class="topbar">
  <div class="brand"><span class="brand-mark" aria-hidden="true"></span>syncledger</div>
  <div class="who"><span class="who-email">{esc(user.email)}</span>
    <span class="who-scope">{esc(who)}</span>
    <form class="inline" method="post" action="/logout">
      <input type="hidden" name="csrf" value="{esc(session.csrf)}">
      <button class="btn btn-small btn-quiet" type="submit">Log out</button>
    </form>
  </div>
</header>
<main class="page">
  <div class="page-head">
    <h1>Payment Requests</h1>
    <span id="live" class="live" data-state="off" title="Updates arrive without reloading">
      <span class="live-dot" aria-hidden="true"></span><span class="live-text">Live</span></span>
  </div>
  <nav class="summary" id="summary" aria-label="Documents by status">
    {summary_html(snapshot, filters)}</nav>
  <div class="toolbar">
    <form class="filters" method="get" action="/" id="filters">
      {org_filter}
      <label class="filter">Status <select name="status">{status_options}</select></label>
      <label class="filter">Project <select name="project" id="project-filter">
        {_options(snapshot.projects, filters.project, "All projects")}</select></label>
      <noscript><button class="btn" type="submit">Apply</button></noscript>
    </form>
    <div class="toolbar-actions">
      {_columns_menu(session)}
      <form class="inline" method="post" action="/documents/retry-failed" id="retry-all"
            data-ajax="retry-failed">
        <input type="hidden" name="csrf" value="{esc(session.csrf)}">
        <input type="hidden" name="org" value="{esc(filters.org)}">
        <input type="hidden" name="back" value="{esc(filters.query())}">
        <button class="btn btn-danger" type="submit" id="retry-all-button"{disabled}><span>Retry
          all failed (<span id="failed-count">{failed}</span>)</span></button>
      </form>
    </div>
  </div>
  <div id="notice" class="notice" role="status" aria-live="polite"{notice_hidden}>
    {notice_html}</div>
  <div class="table-wrap">
    <table id="documents" class="documents">
      <thead><tr>{heads}</tr></thead>
      <tbody id="rows">{rows_html(snapshot, session, filters)}</tbody>
    </table>
  </div>
</main>
{panel_html}"""
    return _layout("Payment Requests · syncledger", body, csrf=session.csrf)
