"""The details panel of one document (an HTML fragment, also part of the page when ``?doc=``
names one): its facts, why it is where it is and what to do, its links to Xero, the action the
page offers, and its history with the Xero calls of each attempt."""

from __future__ import annotations

from domain.vocabulary import Status
from projections.status import money
from syncledger.web.backend import Details
from syncledger.web.pages import Filters, chip, esc, row_action
from syncledger.web.store import Session
from syncledger.web.wording import page_action, page_words, positive


def panel_html(details: Details, session: Session, filters: Filters) -> str:
    """The details panel: the document, why it is where it is, its Xero links and history."""
    view = details.view
    row = view.row
    facts: list[tuple[str, str]] = [
        ("Organisation", esc(row.org)),
        ("Type", esc(row.kind.capitalize())),
        ("OpenSolar id", esc(row.document)),
        ("Customer", esc(row.customer) or "—"),
        ("Project", esc(row.project) or "—"),
        ("Amount", f"{esc(money(row.amount))} {esc(row.currency or '')}"),
        ("Date", esc(row.doc_date) or "—"),
        ("Attempts", esc(row.attempts)),
        ("Xero id", f"<code>{esc(row.xero_id)}</code>" if row.xero_id else "—"),
    ]
    if row.xero_number and row.xero_number != row.number:
        facts.append(("Number in Xero", esc(row.xero_number)))
    if row.amount_due is not None:
        facts.append(
            ("Amount due in Xero", f"{esc(money(row.amount_due))} {esc(row.currency or '')}")
        )
    if positive(row.credited):
        facts.append(("Credited", f"{esc(money(row.credited))} {esc(row.currency or '')}"))
    if row.refund_due:
        facts.append(("Refund due", f"{esc(money(row.refund_due))} {esc(row.currency or '')}"))
    if row.contact:
        facts.append(("Xero contact", esc(row.contact)))
    if row.credit_note_id:
        facts.append(("Credit note", f"<code>{esc(row.credit_note_id)}</code>"))
    facts.append(("Updated", esc(_moment(row.updated_at))))
    dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts)
    todo = page_action(row)
    if row.status == Status.FAILED:
        why = f'<p class="why why-failed">{esc(page_words(row.error or view.reason or ""))}</p>'
        if todo:
            why += f'<p class="why why-action">To do: {esc(todo)}</p>'
    elif view.reason:
        why = f'<p class="why">{esc(page_words(view.reason))}</p>'
    else:
        why = ""
    links = "".join(
        f'<a class="btn btn-small" href="{esc(link.url)}" target="_blank" '
        f'rel="noopener noreferrer">{esc(link.label)} ↗</a>'
        for link in details.links
    )
    if not links:
        links = '<span class="muted">Not in Xero yet.</span>'
    actions = row_action(row, session, filters)
    if row.blocked and row.invoice_doc:
        href = "/?" + filters.query(doc=row.invoice_doc)
        actions += (
            f'<a class="btn btn-small doc-link" href="{esc(href)}" '
            f'data-doc="{esc(row.invoice_doc)}">Open its invoice</a>'
        )
    history = "".join(_event_html(e) for e in reversed(details.events))
    close_href = esc("/?" + filters.query())
    return f"""<div class="panel-inner" data-doc="{esc(row.doc_id)}">
  <div class="panel-head">
    <div><h2>{esc(row.number)}</h2>{chip(view, "panel-tip")}</div>
    <a class="panel-close" href="{close_href}" id="panel-close" aria-label="Close details">×</a>
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
        f"<li><code>{esc(c.get('method'))} {esc(c.get('path'))}</code> → "
        f"{esc(c.get('status') or '-')} {esc(c.get('outcome'))} "
        f'<span class="muted">({esc(c.get("duration_ms"))} ms)</span></li>'
        for c in calls
        if isinstance(c, dict)
    )
    call_list = f'<ul class="calls">{call_items}</ul>' if call_items else ""
    time = str(event.get("time") or "")
    shown = time[:19].replace("T", " ")
    return (
        f'<li class="event"><div class="event-head">'
        f'<time datetime="{esc(time)}">{esc(shown)}</time>'
        f' <span class="event-type">{esc(event.get("type"))}</span></div>'
        f'<div class="event-summary">{esc(page_words(str(event.get("summary") or "")))}</div>'
        f"{call_list}</li>"
    )


def _moment(text: str) -> str:
    return f"{text[:19].replace('T', ' ')} UTC" if len(text) >= 19 else text


def not_found_panel(message: str) -> str:
    """The panel saying why no document is shown."""
    return f'<div class="panel-inner"><p class="why why-failed">{esc(message)}</p></div>'
