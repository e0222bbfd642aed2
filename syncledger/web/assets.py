"""The page's stylesheet and script, kept as Python strings so the package needs no data files and
no build step; served from ``/static/`` under a content hash so browsers may cache them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Asset:
    """A static file: its body, media type and content hash."""

    body: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:12]


CSS = """
:root {
  --bg: #f6f7f9; --panel: #ffffff; --ink: #1f2328; --muted: #656d76; --line: #d8dee4;
  --accent: #0b66d6; --accent-ink: #ffffff; --danger: #c5221f;
  --synced-bg: #e6f4ea; --synced-ink: #137333; --synced-dot: #1e8e3e;
  --pending-bg: #fef7e0; --pending-ink: #8a5300; --pending-dot: #f29900;
  --na-bg: #eef0f2; --na-ink: #4d5561; --na-dot: #8a939e;
  --failed-bg: #fce8e6; --failed-ink: #b3261e; --failed-dot: #d93025;
  --radius: 8px; --shadow: 0 1px 2px rgba(31,35,40,.06), 0 4px 16px rgba(31,35,40,.06);
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body {
  background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
    sans-serif;
}
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
[hidden] { display: none !important; }

.topbar {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between;
  gap: 8px 16px; padding: 10px 24px; background: #111827; color: #e5e7eb;
}
.brand { display: flex; align-items: center; gap: 8px; font-weight: 650; letter-spacing: .2px; }
.brand-mark {
  width: 18px; height: 18px; border-radius: 5px;
  background: linear-gradient(135deg, #34a853 0%, #0b66d6 100%);
}
.brand-large { font-size: 18px; color: var(--ink); margin-bottom: 8px; }
.who {
  display: flex; flex-wrap: wrap; align-items: center; justify-content: flex-end;
  gap: 4px 12px; font-size: 13px; min-width: 0;
}
.who-email { overflow-wrap: anywhere; min-width: 0; }
.who-scope { color: #9ca3af; }
.inline { display: inline; margin: 0; }

.page { max-width: 1280px; margin: 0 auto; padding: 20px 24px 48px; }
.page-head { display: flex; align-items: center; gap: 12px; margin-bottom: 12px; }
h1 { font-size: 22px; margin: 0; font-weight: 650; }
.live {
  display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted);
  border: 1px solid var(--line); border-radius: 999px; padding: 2px 8px; background: #fff;
}
.live-dot { width: 7px; height: 7px; border-radius: 50%; background: var(--na-dot); }
.live[data-state="on"] .live-dot { background: var(--synced-dot); }
.live[data-state="retrying"] .live-dot { background: var(--pending-dot); }

.summary { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0 16px; }
.stat {
  display: flex; flex-direction: column; min-width: 112px; padding: 8px 12px;
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius);
  color: var(--ink);
}
.stat:hover { text-decoration: none; border-color: #afb8c1; }
.stat-active { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent) inset; }
.stat-count { font-size: 20px; font-weight: 650; }
.stat-label { font-size: 12px; color: var(--muted); }
.stat-synced .stat-count { color: var(--synced-ink); }
.stat-pending .stat-count { color: var(--pending-ink); }
.stat-not-attempted .stat-count { color: var(--na-ink); }
.stat-failed .stat-count { color: var(--failed-ink); }

.toolbar {
  display: flex; flex-wrap: wrap; align-items: flex-end; justify-content: space-between;
  gap: 12px; margin-bottom: 12px;
}
.filters { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-end; }
.filter { display: flex; flex-direction: column; gap: 4px; font-size: 12px; color: var(--muted); }
select, input[type=email], input[type=password] {
  font: inherit; color: var(--ink); background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 6px 10px; min-width: 160px;
}
select:focus, input:focus { outline: 2px solid #b6d4fe; border-color: var(--accent); }
.toolbar-actions { display: flex; gap: 8px; align-items: center; }

.btn {
  display: inline-flex; align-items: center; gap: 4px; font: inherit; font-weight: 550;
  cursor: pointer; color: var(--ink); background: #fff; border: 1px solid var(--line);
  border-radius: 6px; padding: 6px 12px; line-height: 1.3; list-style: none; user-select: none;
}
.btn:hover { background: #f3f4f6; text-decoration: none; }
.btn:disabled { opacity: .5; cursor: default; }
.btn-small { padding: 3px 10px; font-size: 12.5px; }
.btn-primary { background: var(--accent); border-color: var(--accent); color: var(--accent-ink); }
.btn-primary:hover { background: #0957b8; }
.btn-danger { color: var(--danger); border-color: #f1b8b3; }
.btn-danger:hover:not(:disabled) { background: var(--failed-bg); }
.btn-retry { color: var(--danger); border-color: #f1b8b3; }
.btn-retry:hover { background: var(--failed-bg); }
.btn-sync { color: var(--accent); border-color: #b6d4fe; }
.btn-sync:hover { background: #eaf2fe; }
.btn-quiet { background: transparent; color: #e5e7eb; border-color: #374151; }
.btn-quiet:hover { background: #1f2937; }
.btn-link { border: 0; background: none; color: var(--accent); padding: 4px 0; }
.btn-block { width: 100%; justify-content: center; padding: 9px 12px; }
summary.btn::-webkit-details-marker { display: none; }

.columns { position: relative; }
.columns .menu {
  position: absolute; right: 0; top: calc(100% + 6px); z-index: 20; min-width: 200px;
  background: #fff; border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: var(--shadow); padding: 8px 12px; display: flex; flex-direction: column; gap: 6px;
}
.check { display: flex; align-items: center; gap: 8px; cursor: pointer; }

.notice {
  margin: 0 0 12px; padding: 8px 12px; border-radius: 6px; background: #eaf2fe;
  border: 1px solid #b6d4fe; color: #0b3d91;
}
.notice.notice-error {
  background: var(--failed-bg); border-color: #f1b8b3; color: var(--failed-ink);
}

.table-wrap {
  background: var(--panel); border: 1px solid var(--line); border-radius: var(--radius);
  box-shadow: var(--shadow); max-width: 100%;
}
table.documents { width: 100%; border-collapse: separate; border-spacing: 0; }
.documents th {
  text-align: left; font-size: 12px; font-weight: 600; color: var(--muted);
  text-transform: uppercase; letter-spacing: .04em; padding: 10px 14px;
  border-bottom: 1px solid var(--line); background: #fafbfc; position: sticky; top: 0;
}
.documents th:first-child { border-top-left-radius: var(--radius); }
.documents th:last-child { border-top-right-radius: var(--radius); }
.documents td { padding: 10px 14px; border-bottom: 1px solid #eef0f2; vertical-align: middle; }
.documents tbody tr:last-child td { border-bottom: 0; }
.documents tbody tr:hover td { background: #fafbfc; }
.documents tr.selected td { background: #f0f6ff; }
.documents .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.documents tr.empty td { text-align: center; color: var(--muted); padding: 32px; }
.doc-link { font-weight: 600; }
.currency { color: var(--muted); font-size: 12px; }
.kind { font-size: 12px; color: var(--muted); }
.kind-payment { color: #6b4fbb; }
td[data-col="actions"] { width: 1%; white-space: nowrap; text-align: right; }
td[data-col="date"] { white-space: nowrap; }
th[data-col="actions"] { text-align: right; }

.chip {
  position: relative; display: inline-flex; align-items: center; gap: 6px; white-space: nowrap;
  padding: 2px 10px 2px 8px; border-radius: 999px; font-size: 12.5px; font-weight: 600;
  cursor: default; outline: none;
}
.chip-dot { width: 7px; height: 7px; border-radius: 50%; }
.chip-synced { background: var(--synced-bg); color: var(--synced-ink); }
.chip-synced .chip-dot { background: var(--synced-dot); }
.chip-pending { background: var(--pending-bg); color: var(--pending-ink); }
.chip-pending .chip-dot { background: var(--pending-dot); }
.chip-not-attempted { background: var(--na-bg); color: var(--na-ink); }
.chip-not-attempted .chip-dot { background: var(--na-dot); }
.chip-failed { background: var(--failed-bg); color: var(--failed-ink); }
.chip-failed .chip-dot { background: var(--failed-dot); }
.chip-credited { background: var(--na-bg); color: var(--synced-ink); }
.chip-credited .chip-dot { background: transparent; border: 2px solid var(--synced-dot); }
.chip-refund-due { background: var(--pending-bg); color: var(--pending-ink); }
.chip-refund-due .chip-dot {
  background: var(--synced-dot); box-shadow: 0 0 0 2px var(--pending-dot);
}
.chip:focus-visible { box-shadow: 0 0 0 2px var(--accent); }
.tip {
  visibility: hidden; opacity: 0; position: absolute; z-index: 30; left: 50%; top: calc(100% + 8px);
  transform: translateX(-50%); width: max-content; max-width: min(340px, calc(100vw - 16px));
  white-space: normal;
  background: #111827; color: #f9fafb; font-size: 12.5px; font-weight: 450; line-height: 1.4;
  padding: 8px 10px; border-radius: 6px; box-shadow: var(--shadow); text-align: left;
  transition: opacity .12s ease; pointer-events: none;
}
.tip::before {
  content: ""; position: absolute; top: -5px; left: 50%; margin-left: -5px;
  border: 5px solid transparent; border-top: 0; border-bottom-color: #111827;
}
.chip:hover .tip, .chip:focus .tip { visibility: visible; opacity: 1; }
.chip.tip-off .tip { visibility: hidden; opacity: 0; }
.tip-todo { display: block; margin-top: 6px; color: #d1d5db; }
/* With the script, a tooltip is placed in the viewport, so a table that scrolls sideways in its
   container neither clips it nor grows because of it. */
.js .tip { position: fixed; left: 0; top: 0; transform: none; }
.js .tip::before { left: var(--tip-arrow, 50%); }
.js .tip.tip-above::before {
  top: auto; bottom: -5px; border-bottom: 0; border-top: 5px solid #111827;
}

.panel {
  position: fixed; top: 0; right: 0; bottom: 0; width: min(480px, 100vw); z-index: 40;
  background: #fff; border-left: 1px solid var(--line); box-shadow: -8px 0 24px rgba(0,0,0,.08);
  overflow-y: auto;
}
.panel-inner { padding: 20px 24px 32px; }
.panel-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 12px; }
.panel-head h2 { margin: 0 0 6px; font-size: 20px; }
.panel-close {
  font-size: 24px; line-height: 1; color: var(--muted); padding: 2px 8px; border-radius: 6px;
}
.panel-close:hover { background: #f3f4f6; text-decoration: none; }
.panel .tip { left: 0; transform: none; }
.panel .tip::before { left: 16px; }
.js .panel .tip::before { left: var(--tip-arrow, 16px); }
.why { margin: 12px 0; padding: 8px 12px; background: #f6f8fa; border-radius: 6px; }
.why-failed { background: var(--failed-bg); color: var(--failed-ink); }
.panel-links { display: flex; flex-wrap: wrap; gap: 8px; margin: 12px 0 16px; }
.facts {
  display: grid; grid-template-columns: 120px 1fr; gap: 6px 12px; margin: 0 0 16px;
  font-size: 13px;
}
.facts dt { color: var(--muted); }
.facts dd { margin: 0; overflow-wrap: anywhere; }
h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.history { list-style: none; margin: 0; padding: 0 0 0 14px; border-left: 2px solid #eef0f2; }
.event { position: relative; padding: 0 0 14px 10px; }
.event::before {
  content: ""; position: absolute; left: -20px; top: 5px; width: 8px; height: 8px;
  border-radius: 50%; background: #afb8c1; border: 2px solid #fff;
}
.event-head { font-size: 12px; color: var(--muted); }
.event-type { font-weight: 600; color: var(--ink); }
.event-summary { overflow-wrap: anywhere; }
.calls { margin: 4px 0 0; padding-left: 16px; font-size: 12px; color: var(--muted); }

.login-body { display: grid; place-items: center; min-height: 100vh; }
.login { width: 100%; display: grid; place-items: center; padding: 24px; }
.card {
  background: #fff; border: 1px solid var(--line); border-radius: 12px; box-shadow: var(--shadow);
}
.login-card {
  width: min(380px, 100%); padding: 28px; display: flex; flex-direction: column; gap: 12px;
}
.login-card h1 { font-size: 20px; }
.login-card p { margin: 0; }
.field { display: flex; flex-direction: column; gap: 4px; font-size: 13px; color: var(--muted); }
.field input { min-width: 0; width: 100%; padding: 8px 10px; }
.form-error {
  background: var(--failed-bg); color: var(--failed-ink); padding: 8px 10px; border-radius: 6px;
}

/* Narrow windows: the table scrolls sideways inside its container (which gives up the sticky
   header there), and the rest wraps. */
@media (max-width: 1100px) {
  .table-wrap { overflow-x: auto; }
}
@media (max-width: 640px) {
  .documents:has(tbody tr.empty:only-child) thead { display: none; }
  .topbar { padding: 8px 12px; }
  .page { padding: 12px 12px 32px; }
  .summary { gap: 6px; }
  .stat { flex: 1 1 88px; min-width: 0; padding: 6px 10px; }
  .toolbar, .filters { width: 100%; }
  .filter { flex: 1 1 140px; }
  select { min-width: 0; width: 100%; }
  .toolbar-actions { flex-wrap: wrap; }
  .columns .menu { left: 0; right: auto; }
  .documents th, .documents td { padding: 8px 10px; }
  .documents tr.empty td { padding: 24px 12px; white-space: normal; }
  .facts { grid-template-columns: 96px 1fr; }
  .panel-inner { padding: 16px 16px 24px; }
}
"""

JS = """
"use strict";
(function () {
  document.documentElement.classList.add("js");
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const table = document.getElementById("documents");
  if (!csrfMeta || !table) { return; }
  const csrf = csrfMeta.content;
  const rows = document.getElementById("rows");
  const summary = document.getElementById("summary");
  const filters = document.getElementById("filters");
  const panel = document.getElementById("panel");
  const notice = document.getElementById("notice");
  const live = document.getElementById("live");
  const retryAll = document.getElementById("retry-all");
  const failedCount = document.getElementById("failed-count");
  const retryAllButton = document.getElementById("retry-all-button");
  const projectFilter = document.getElementById("project-filter");
  const STORE = "syncledger.hiddenColumns";
  let source = null;
  let openDoc = panel && !panel.hidden && panel.querySelector(".panel-inner")
    ? panel.querySelector(".panel-inner").dataset.doc : null;

  // columns manager ------------------------------------------------------------------------
  function hiddenColumns() {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]"); } catch (e) { return []; }
  }
  function applyColumns() {
    const hidden = hiddenColumns();
    document.querySelectorAll("#columns input[data-col]").forEach(function (box) {
      const off = hidden.indexOf(box.dataset.col) >= 0;
      box.checked = !off;
      table.classList.toggle("hide-" + box.dataset.col, off);
    });
    table.dataset.hidden = hidden.join(" ");
  }
  document.querySelectorAll("#columns input[data-col]").forEach(function (box) {
    box.addEventListener("change", function () {
      const hidden = hiddenColumns().filter(function (c) { return c !== box.dataset.col; });
      if (!box.checked) { hidden.push(box.dataset.col); }
      localStorage.setItem(STORE, JSON.stringify(hidden));
      applyColumns();
    });
  });
  const reset = document.getElementById("columns-reset");
  if (reset) {
    reset.addEventListener("click", function () {
      localStorage.removeItem(STORE);
      applyColumns();
    });
  }
  applyColumns();

  // tooltips --------------------------------------------------------------------------------
  // Each chip's tooltip is placed in the viewport (position: fixed) beside its chip, so the
  // table may scroll sideways in its container; Escape hides it until the chip is left.
  function placeTip(chipEl) {
    const tip = chipEl.querySelector(".tip");
    if (!tip) { return; }
    const box = chipEl.getBoundingClientRect();
    const width = tip.offsetWidth, height = tip.offsetHeight, margin = 8;
    const middle = box.left + box.width / 2;
    const left = Math.max(margin, Math.min(middle - width / 2, window.innerWidth - width - margin));
    let top = box.bottom + 8;
    const above = top + height > window.innerHeight - margin && box.top - 8 - height > margin;
    if (above) { top = box.top - 8 - height; }
    tip.classList.toggle("tip-above", above);
    tip.style.left = left + "px";
    tip.style.top = top + "px";
    tip.style.setProperty("--tip-arrow", Math.max(10, Math.min(width - 10, middle - left)) + "px");
  }
  function shownChips() {
    return document.querySelectorAll(".chip:hover, .chip:focus");
  }
  ["mouseover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const chipEl = event.target.closest && event.target.closest(".chip");
      if (chipEl) { placeTip(chipEl); }
    });
  });
  ["scroll", "resize"].forEach(function (type) {
    window.addEventListener(type, function () { shownChips().forEach(placeTip); }, true);
  });
  ["mouseout", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      const chipEl = event.target.closest && event.target.closest(".chip");
      if (chipEl && !chipEl.contains(event.relatedTarget)) { chipEl.classList.remove("tip-off"); }
    });
  });

  // notices ---------------------------------------------------------------------------------
  function say(text, isError) {
    notice.textContent = text;
    notice.classList.toggle("notice-error", !!isError);
    notice.hidden = !text;
  }

  // filters ---------------------------------------------------------------------------------
  function query() {
    const params = new URLSearchParams();
    new FormData(filters).forEach(function (value, key) {
      if (value) { params.set(key, value); }
    });
    return params;
  }
  function filtersChanged() {
    const params = query();
    const text = params.toString();
    history.replaceState(null, "", text ? "/?" + text : "/");
    const org = retryAll.querySelector('input[name="org"]');
    if (org) { org.value = params.get("org") || ""; }
    retryAll.querySelector('input[name="back"]').value = text;
    connect();
  }
  filters.addEventListener("change", filtersChanged);
  filters.addEventListener("submit", function (event) {
    event.preventDefault();
    filtersChanged();
  });
  summary.addEventListener("click", function (event) {
    const link = event.target.closest("a.stat");
    if (!link) { return; }
    event.preventDefault();
    filters.elements.status.value = link.dataset.status;
    filtersChanged();
  });

  // details panel ---------------------------------------------------------------------------
  function markSelected() {
    rows.querySelectorAll("tr[data-doc]").forEach(function (tr) {
      tr.classList.toggle("selected", tr.dataset.doc === openDoc);
    });
  }
  function showPanel(doc) {
    openDoc = doc;
    markSelected();
    return fetch("/documents/" + encodeURIComponent(doc) + "/panel?" + query().toString(), {
      headers: { "Accept": "text/html" }, credentials: "same-origin"
    }).then(function (answer) {
      if (answer.status === 401) { location.assign("/login"); return null; }
      return answer.text();
    }).then(function (html) {
      if (html === null || openDoc !== doc) { return; }
      panel.innerHTML = html;
      panel.hidden = false;
    });
  }
  function closePanel() {
    openDoc = null;
    panel.hidden = true;
    panel.innerHTML = "";
    markSelected();
  }
  document.addEventListener("click", function (event) {
    const link = event.target.closest("a.doc-link");
    if (link) { event.preventDefault(); showPanel(link.dataset.doc); return; }
    if (event.target.closest("#panel-close")) { event.preventDefault(); closePanel(); }
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    const chipEl = document.activeElement && document.activeElement.closest(".chip");
    if (chipEl && !chipEl.classList.contains("tip-off")) {
      chipEl.classList.add("tip-off");
      return;
    }
    if (openDoc) { closePanel(); }
  });

  // actions ---------------------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-ajax]");
    if (!form) { return; }
    event.preventDefault();
    const button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, {
      method: "POST", body: new URLSearchParams(new FormData(form)), credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf }
    }).then(function (answer) {
      return answer.json().then(function (data) { return [answer, data]; });
    }).then(function (pair) {
      const answer = pair[0], data = pair[1];
      if (answer.status === 401) { location.assign("/login"); return; }
      const lines = data.notice ? [data.notice] : [];
      if (data.error) { lines.push(data.error); }
      say(lines.join(" · ") || "Nothing to do.", !answer.ok);
    }).catch(function () {
      say("The request did not reach the server; try again.", true);
      if (button) { button.disabled = false; }
    });
  });

  // live updates (server-sent events) -------------------------------------------------------
  // A keyboard user's place survives a live update: the same control of the same document.
  const FOCUSABLE = [".chip", "a.doc-link", "button"];
  function focusedPlace() {
    const active = document.activeElement;
    const row = active && rows.contains(active) ? active.closest("tr[data-doc]") : null;
    const kind = row ? FOCUSABLE.find(function (s) { return active.matches(s); }) : null;
    return kind ? 'tr[data-doc="' + CSS.escape(row.dataset.doc) + '"] ' + kind : null;
  }
  function render(data) {
    const place = focusedPlace();
    const dismissed = !!document.querySelector("#rows .chip.tip-off:focus");
    rows.innerHTML = data.rows;
    const again = place ? rows.querySelector(place) : null;
    if (again) {
      again.classList.toggle("tip-off", dismissed);
      again.focus({ preventScroll: true });
    }
    summary.innerHTML = data.summary;
    failedCount.textContent = String(data.failed);
    retryAllButton.disabled = data.failed === 0;
    if (projectFilter) {
      const chosen = projectFilter.value;
      const options = ['<option value="">All projects</option>'];
      data.projects.forEach(function (p) {
        const o = document.createElement("option");
        o.value = p; o.textContent = p; if (p === chosen) { o.selected = true; }
        options.push(o.outerHTML);
      });
      projectFilter.innerHTML = options.join("");
    }
    applyColumns();
    markSelected();
    if (openDoc) { showPanel(openDoc); }
    document.body.dataset.version = String(data.version);
  }
  function connect() {
    if (source) { source.close(); }
    live.dataset.state = "retrying";
    source = new EventSource("/api/events?" + query().toString());
    source.addEventListener("open", function () { live.dataset.state = "on"; });
    source.addEventListener("documents", function (event) {
      live.dataset.state = "on";
      render(JSON.parse(event.data));
    });
    source.addEventListener("expired", function () {
      source.close();
      location.assign("/login");
    });
    source.addEventListener("error", function () {
      live.dataset.state = source.readyState === EventSource.CLOSED ? "off" : "retrying";
      if (source.readyState === EventSource.CLOSED) { setTimeout(connect, 3000); }
    });
  }
  connect();
})();
"""

_COLUMN_KEYS = ("org", "type", "customer", "project", "amount", "date", "sync")
_HIDE_RULES = "\n".join(f'.hide-{k} [data-col="{k}"] {{ display: none; }}' for k in _COLUMN_KEYS)

FAVICON = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#34a853"/><stop offset="1" stop-color="#0b66d6"/>
</linearGradient></defs>
<rect width="32" height="32" rx="8" fill="url(#g)"/></svg>
"""

ASSETS: dict[str, Asset] = {
    "favicon.svg": Asset(FAVICON.encode(), "image/svg+xml"),
    "app.css": Asset((CSS + _HIDE_RULES + "\n").encode(), "text/css; charset=utf-8"),
    "app.js": Asset(JS.encode(), "text/javascript; charset=utf-8"),
}


def asset_url(name: str) -> str:
    """The URL of a static file, with its content hash so a new version is fetched at once."""
    return f"/static/{name}?v={ASSETS[name].digest}"
