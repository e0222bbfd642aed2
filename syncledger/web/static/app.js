
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
