"""The HTML of the web side, rendered on the server: the login page, the Payment Requests page,
its table rows and summary (also sent as-is over server-sent events), and the details panel.
Every value is escaped here; the page loads one stylesheet and one script and runs no inline
code, so the Content-Security-Policy can forbid inline scripts and styles. What the page says of
reasons and actions comes from ``syncledger.web.wording``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlencode

from projections.status import (
    FAILED,
    NOT_ATTEMPTED,
    PENDING,
    STATUSES,
    SYNCED,
    StatusRow,
    StatusView,
    money,
)
from syncledger.web.assets import asset_url
from syncledger.web.backend import Details, Snapshot
from syncledger.web.store import Session
from syncledger.web.wording import chip_label, page_action, page_words, positive

ROW_LIMIT = 500
"""Rows rendered (and pushed live) at most; the counts always cover every document."""

CHIP_CLASS = {
    SYNCED: "synced",
    PENDING: "pending",
    NOT_ATTEMPTED: "not-attempted",
    FAILED: "failed",
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


def _e(value: object) -> str:
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
    meta = f'<meta name="csrf-token" content="{_e(csrf)}">' if csrf else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"{meta}\n<title>{_e(title)}</title>\n"
        f'<link rel="icon" type="image/svg+xml" href="{asset_url("favicon.svg")}">\n'
        f'<link rel="stylesheet" href="{asset_url("app.css")}">\n'
        f'<script src="{asset_url("app.js")}" defer></script>\n'
        f'</head>\n<body class="{_e(body_class)}">\n{body}\n</body>\n</html>\n'
    )


# login ----------------------------------------------------------------------------------------


def login_page(csrf: str, next_url: str, error: str | None = None, email: str = "") -> str:
    """The login form."""
    problem = f'<p class="form-error" role="alert">{_e(error)}</p>' if error else ""
    body = f"""<main class="login">
<form class="card login-card" method="post" action="/login">
  <div class="brand brand-large"><span class="brand-mark" aria-hidden="true"></span>syncledger</div>
  <h1>Log in</h1>
  <p class="muted">See your Payment Requests and their sync to Xero.</p>
  {problem}
  <label class="field">Email
    <input type="email" name="email" value="{_e(email)}" autocomplete="username" required autofocus>
  </label>
  <label class="field">Password
    <input type="password" name="password" autocomplete="current-password" required>
  </label>
  <input type="hidden" name="csrf" value="{_e(csrf)}">
  <input type="hidden" name="next" value="{_e(next_url)}">
  <button class="btn btn-primary btn-block" type="submit">Log in</button>
</form>
</main>"""
    return _layout("Log in · syncledger", body, body_class="login-body")


# the page -------------------------------------------------------------------------------------


def tooltip_text(view: StatusView) -> str:
    """What the Accounting Sync chip's tooltip says first: the error, or why it is where it is
    (in the page's words)."""
    row = view.row
    if row.status == FAILED:
        text = row.error or view.reason or "Failed"
    elif row.status == SYNCED:
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
        f'<span class="tip-todo" id="{_e(todo_id)}">To do: {_e(todo)}</span>' if todo else ""
    )
    classes = f"chip chip-{CHIP_CLASS.get(row.status, 'pending')}"
    if variant:
        classes += f" chip-{variant}"
    return (
        f'<span class="{classes}" tabindex="0" data-status="{_e(row.status)}" '
        f'data-label="{_e(label)}" aria-describedby="{_e(described)}">'
        f'<span class="chip-dot" aria-hidden="true"></span>'
        f'<span class="chip-label">{_e(label)}</span>'
        f'<span class="tip" role="tooltip" id="{_e(tip_id)}">'
        f'<span class="tip-text" id="{_e(text_id)}">{_e(tooltip_text(view))}</span>'
        f"{todo_html}</span></span>"
    )


def _row_action(row: StatusRow, session: Session, filters: Filters) -> str:
    """The button the page offers for a document: Retry (Failed, unless it only waits for its
    invoice) or Sync (Not Attempted and sendable)."""
    if row.status == FAILED and not row.blocked:
        return _action(row.doc_id, "retry", "Retry", session.csrf, filters)
    if row.status == NOT_ATTEMPTED and row.note is None:
        return _action(row.doc_id, "sync", "Sync", session.csrf, filters)
    return ""


def _action(doc_id: str, verb: str, label: str, csrf: str, filters: Filters) -> str:
    return (
        f'<form class="inline" method="post" action="/documents/{_e(doc_id)}/{verb}" '
        f'data-ajax="{verb}">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        f'<input type="hidden" name="back" value="{_e(filters.query())}">'
        f'<button class="btn btn-small btn-{verb}" type="submit">{_e(label)}</button>'
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
                f'<a class="doc-link" href="{_e(href)}" data-doc="{_e(row.doc_id)}">'
                f"{_e(row.number)}</a>"
            )
        elif key == "org":
            content = _e(row.org)
        elif key == "type":
            content = f'<span class="kind kind-{_e(row.kind)}">{_e(row.kind.capitalize())}</span>'
        elif key == "customer":
            content = _e(row.customer) or '<span class="muted">—</span>'
        elif key == "project":
            content = _e(row.project) or '<span class="muted">—</span>'
        elif key == "amount":
            content = (
                f"{_e(money(row.amount))} <span class='currency'>{_e(row.currency or '')}</span>"
            )
        elif key == "date":
            content = f'<time datetime="{_e(row.doc_date)}">{_e(row.doc_date)}</time>'
        elif key == "sync":
            content = chip(view)
        else:
            content = _row_action(row, session, filters)
        numeric = ' class="num"' if key == "amount" else ""
        cells.append(f'<td data-col="{key}"{numeric}>{content}</td>')
    return (
        f'<tr data-doc="{_e(row.doc_id)}" data-number="{_e(row.number)}" '
        f'data-status="{_e(row.status)}">' + "".join(cells) + "</tr>"
    )


def rows_html(snapshot: Snapshot, session: Session, filters: Filters) -> str:
    """The table body: the newest ``ROW_LIMIT`` documents, and a note if there are more (or
    why there are none)."""
    views = snapshot.views
    span = len(columns_for(session))
    if not views:
        text = _e(empty_text(snapshot, session, filters))
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
        f'href="/?{_e(Filters(None, filters.project, filters.org).query())}" data-status="">'
        f'<span class="stat-count">{total}</span><span class="stat-label">All</span></a>'
    ]
    for status in STATUSES:
        active = " stat-active" if filters.status == status else ""
        query = Filters(status, filters.project, filters.org).query()
        items.append(
            f'<a class="stat stat-{CHIP_CLASS[status]}{active}" href="/?{_e(query)}" '
            f'data-status="{_e(status)}"><span class="stat-count">{snapshot.counts.get(status, 0)}'
            f'</span><span class="stat-label">{_e(status)}</span></a>'
        )
    return "".join(items)


def _options(values: Sequence[str], selected: str | None, everything: str) -> str:
    out = [f'<option value="">{_e(everything)}</option>']
    for value in values:
        mark = " selected" if value == selected else ""
        out.append(f'<option value="{_e(value)}"{mark}>{_e(value)}</option>')
    return "".join(out)


def _columns_menu(session: Session) -> str:
    boxes = "".join(
        f'<label class="check"><input type="checkbox" data-col="{c.key}" checked> '
        f"{_e(c.title)}</label>"
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
    status_options = _options(list(STATUSES), filters.status, "All statuses")
    heads = "".join(
        f'<th data-col="{c.key}"{" class=num" if c.key == "amount" else ""} scope="col">'
        f"{_e(c.title)}</th>"
        for c in columns_for(session)
    )
    failed = snapshot.counts.get(FAILED, 0)
    disabled = "" if failed else " disabled"
    panel_html = (
        f'<aside id="panel" class="panel" aria-label="Document details">{panel}</aside>'
        if panel
        else '<aside id="panel" class="panel" aria-label="Document details" hidden></aside>'
    )
    notice_html = _e(page_words(notice))
    notice_hidden = "" if notice else " hidden"
    body = f"""<header class="topbar">
  <div class="brand"><span class="brand-mark" aria-hidden="true"></span>syncledger</div>
  <div class="who"><span class="who-email">{_e(user.email)}</span>
    <span class="who-scope">{_e(who)}</span>
    <form class="inline" method="post" action="/logout">
      <input type="hidden" name="csrf" value="{_e(session.csrf)}">
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
        <input type="hidden" name="csrf" value="{_e(session.csrf)}">
        <input type="hidden" name="org" value="{_e(filters.org)}">
        <input type="hidden" name="back" value="{_e(filters.query())}">
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


# details panel --------------------------------------------------------------------------------


def panel_html(details: Details, session: Session, filters: Filters) -> str:
    """The details panel: the document, why it is where it is, its Xero links and history."""
    view = details.view
    row = view.row
    facts: list[tuple[str, str]] = [
        ("Organisation", _e(row.org)),
        ("Type", _e(row.kind.capitalize())),
        ("OpenSolar id", _e(row.document)),
        ("Customer", _e(row.customer) or "—"),
        ("Project", _e(row.project) or "—"),
        ("Amount", f"{_e(money(row.amount))} {_e(row.currency or '')}"),
        ("Date", _e(row.doc_date) or "—"),
        ("Attempts", _e(row.attempts)),
        ("Xero id", f"<code>{_e(row.xero_id)}</code>" if row.xero_id else "—"),
    ]
    if row.xero_number and row.xero_number != row.number:
        facts.append(("Number in Xero", _e(row.xero_number)))
    if row.amount_due is not None:
        facts.append(
            ("Amount due in Xero", f"{_e(money(row.amount_due))} {_e(row.currency or '')}")
        )
    if positive(row.credited):
        facts.append(("Credited", f"{_e(money(row.credited))} {_e(row.currency or '')}"))
    if row.refund_due:
        facts.append(("Refund due", f"{_e(money(row.refund_due))} {_e(row.currency or '')}"))
    if row.contact:
        facts.append(("Xero contact", _e(row.contact)))
    if row.credit_note_id:
        facts.append(("Credit note", f"<code>{_e(row.credit_note_id)}</code>"))
    facts.append(("Updated", _e(_moment(row.updated_at))))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    todo = page_action(row)
    if row.status == FAILED:
        why = f'<p class="why why-failed">{_e(page_words(row.error or view.reason or ""))}</p>'
        if todo:
            why += f'<p class="why why-action">To do: {_e(todo)}</p>'
    elif view.reason:
        why = f'<p class="why">{_e(page_words(view.reason))}</p>'
    else:
        why = ""
    links = "".join(
        f'<a class="btn btn-small" href="{_e(link.url)}" target="_blank" '
        f'rel="noopener noreferrer">{_e(link.label)} ↗</a>'
        for link in details.links
    )
    if not links:
        links = '<span class="muted">Not in Xero yet.</span>'
    actions = _row_action(row, session, filters)
    if row.blocked and row.invoice_doc:
        href = "/?" + filters.query(doc=row.invoice_doc)
        actions += (
            f'<a class="btn btn-small doc-link" href="{_e(href)}" '
            f'data-doc="{_e(row.invoice_doc)}">Open its invoice</a>'
        )
    history = "".join(_event_html(e) for e in reversed(details.events))
    close_href = "/?" + filters.query()
    return f"""<div class="panel-inner" data-doc="{_e(row.doc_id)}">
  <div class="panel-head">
    <div><h2>{_e(row.number)}</h2>{chip(view, "panel-tip")}</div>
    <a class="panel-close" href="{_e(close_href)}" id="panel-close" aria-label="Close details">×</a>
  </div>
  {why}
  <div class="panel-links">{links}{actions}</div>
  <dl class="facts">{dl}</dl>
  <h3>History</h3>
  <ol class="history">{history}</ol>
</div>"""


def _event_html(event: dict[str, object]) -> str:
    calls_raw = event.get("calls")
    calls = calls_raw if isinstance(calls_raw, list) else []
    call_items = "".join(
        f"<li><code>{_e(c.get('method'))} {_e(c.get('path'))}</code> → "
        f"{_e(c.get('status') or '-')} {_e(c.get('outcome'))} "
        f'<span class="muted">({_e(c.get("duration_ms"))} ms)</span></li>'
        for c in calls
        if isinstance(c, dict)
    )
    call_list = f'<ul class="calls">{call_items}</ul>' if call_items else ""
    time = str(event.get("time") or "")
    shown = time[:19].replace("T", " ")
    return (
        f'<li class="event"><div class="event-head"><time datetime="{_e(time)}">{_e(shown)}</time>'
        f' <span class="event-type">{_e(event.get("type"))}</span></div>'
        f'<div class="event-summary">{_e(page_words(str(event.get("summary") or "")))}</div>'
        f"{call_list}</li>"
    )


def _moment(text: str) -> str:
    return f"{text[:19].replace('T', ' ')} UTC" if len(text) >= 19 else text


def not_found_panel(message: str) -> str:
    return f'<div class="panel-inner"><p class="why why-failed">{_e(message)}</p></div>'
