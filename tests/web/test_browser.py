"""The Payment Requests page in headless Chromium (Debian's ``chromium``; nothing is downloaded),
against a real ``syncledger serve`` process, a real Xero sandbox and the real CLI.

Screenshots are left in ``tests/artifacts/``; the one of all four statuses is copied to
``docs/payment-requests.png`` for the README when that file is missing or
``SYNCLEDGER_UPDATE_DOCS=1``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncledger.web.auth import signature
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process
from tests.web.conftest import JANE, PASSWORD, SECRET_KEY, invoice, payment

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = "chromium"
"""Debian's headless Chromium, looked up on PATH (``apt-get install -y chromium``)."""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS = Path(__file__).resolve().parents[2] / "docs"
SCREENSHOT = "payment-requests.png"
WAIT_MS = 20_000


class WebCli(Cli):
    """The CLI with a secret key, and the web commands (``python -m syncledger.web``)."""

    def env(self) -> dict[str, str]:
        return {**super().env(), "SYNCLEDGER_SECRET_KEY": SECRET_KEY}

    def web(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "syncledger.web", *args],
            input=input,
            capture_output=True,
            text=True,
            env=self.env(),
            cwd=self.workdir,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result


@dataclass
class Stack:
    """A sandbox, the CLI on one ledger, and ``syncledger serve`` on that ledger."""

    sandbox: SandboxProcess
    cli: WebCli
    serve: subprocess.Popen[str]
    url: str
    secret: str

    def post(self, *changes: dict[str, Any]) -> dict[str, Any]:
        body = json.dumps(list(changes)).encode()
        answer = httpx.post(
            f"{self.url}/opensolar/changes",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Syncledger-Org": "42",
                "X-Syncledger-Signature": signature(self.secret, body),
            },
        )
        assert answer.status_code == 202, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def invoices(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.sandbox.state()["invoices"]
        return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which(CHROMIUM)
    if executable is None:
        missing = f"no `{CHROMIUM}` on PATH: install Debian's package (apt-get install -y chromium)"
        if os.environ.get("SYNCLEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"SYNCLEDGER_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    sandbox = start_sandbox()
    cli = WebCli(tmp_path / "ledger.db", tmp_path)
    serve: subprocess.Popen[str] | None = None
    try:
        cli("connect", "42", "--xero-url", sandbox.url, "--tenant-id", sandbox.tenant_id,
            "--at", "2026-11-01T00:00:00Z")  # fmt: skip
        cli("config", "map-account", "42", "sales", "200")
        cli("config", "payment-account", "42", "090")
        cli.web("users", "add", "42", JANE, "--password-stdin", input=PASSWORD + "\n")
        secret = cli.web("webhook", "secret", "42").stdout.strip()
        serve = subprocess.Popen(
            [sys.executable, "-m", "syncledger.web", "serve", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli.env(),
            cwd=tmp_path,
        )
        assert serve.stdout is not None
        line = serve.stdout.readline()
        assert line, serve.stderr.read() if serve.stderr else "serve did not start"
        yield Stack(sandbox, cli, serve, json.loads(line)["url"], secret)
    finally:
        if serve is not None:
            stop_process(serve)
            assert serve.returncode == 0
        stop_process(sandbox.process)


def log_in(page: Any, url: str) -> None:
    page.goto(f"{url}/")
    page.fill('input[name="email"]', JANE)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{url}/")
    # The first live update has replaced the rows, so elements found from here on stay put
    # until the documents change.
    from playwright.sync_api import expect

    expect(page.locator("body")).to_have_attribute("data-version", re.compile(r"^\d+$"))
    # A marker that survives only as long as the page is not reloaded.
    page.evaluate("window.__sameDocument = true")


def chip(page: Any, number: str) -> Any:
    return page.locator(f'tr[data-number="{number}"] .chip')


def test_a_failed_invoice_is_fixed_and_retried_and_turns_synced_without_reloading(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(invoice("evt-1", 42, 1042, "INV-00019", categories=("sales", "incentives")))
    log_in(page, stack.url)

    failed = chip(page, "INV-00019")
    expect(failed).to_have_attribute("data-status", "Failed", timeout=WAIT_MS)
    failed.hover()
    tooltip = failed.locator(".tip")
    expect(tooltip).to_be_visible()
    expect(tooltip).to_have_css("opacity", "1")
    expect(tooltip.locator(".tip-text")).to_have_text(
        "Missing Ledger Account: no Xero account is mapped for line category 'incentives'"
    )
    expect(tooltip.locator(".tip-todo")).to_have_text(
        "To do: Ask an administrator to map a Xero account for the line category named in the "
        "reason, then press Retry."
    )
    page.screenshot(path=str(artifacts / "payment-requests-failed.png"))

    stack.cli("config", "map-account", "42", "incentives", "260")
    page.locator('tr[data-number="INV-00019"]').get_by_role("button", name="Retry").click()

    expect(chip(page, "INV-00019")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(artifacts / "payment-requests-retried.png"))
    [sent] = stack.invoices()
    assert sent["invoice_number"] == "INV-00019"
    assert [line["account_code"] for line in sent["line_items"]] == ["200", "260"]

    page.locator("a.doc-link[data-doc]", has_text="INV-00019").click()
    panel = page.locator("#panel")
    expect(panel).to_be_visible()
    expect(panel.locator(".history")).to_contain_text("retry of invoice requested")
    expect(panel.get_by_role("link", name="Xero sandbox state ↗")).to_be_visible()
    page.screenshot(path=str(artifacts / "payment-requests-details.png"))


def test_a_not_attempted_invoice_is_synced_from_the_page(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-00101", customer="Ada Lovelace", project=701),
        invoice(
            "evt-2",
            42,
            2,
            "INV-00102",
            customer="Grace Hopper",
            project=702,
            categories=("sales", "incentives"),
        ),
        invoice(
            "evt-3",
            42,
            3,
            "INV-00090",
            customer="Alan Turing",
            project=690,
            timestamp="2026-10-14T09:00:00Z",
        ),
        payment("evt-4", 42, 3001, 3),
    )
    log_in(page, stack.url)

    expect(chip(page, "INV-00101")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    expect(chip(page, "INV-00102")).to_have_attribute("data-status", "Failed", timeout=WAIT_MS)
    expect(chip(page, "INV-00090")).to_have_attribute("data-status", "Not Attempted")
    expect(chip(page, "payment 3001")).to_have_attribute("data-status", "Pending")
    chip(page, "INV-00102").hover()
    expect(chip(page, "INV-00102").locator(".tip")).to_have_css("opacity", "1")
    page.screenshot(
        path=str(artifacts / SCREENSHOT),
        clip={"x": 0, "y": 0, "width": 1280, "height": 500},
    )
    if os.environ.get("SYNCLEDGER_UPDATE_DOCS") == "1" or not (DOCS / SCREENSHOT).exists():
        DOCS.mkdir(exist_ok=True)
        shutil.copyfile(artifacts / SCREENSHOT, DOCS / SCREENSHOT)

    page.locator('tr[data-number="INV-00090"]').get_by_role("button", name="Sync").click()

    expect(chip(page, "INV-00090")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    expect(chip(page, "payment 3001")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True
    assert sorted(i["invoice_number"] for i in stack.invoices()) == ["INV-00090", "INV-00101"]
    page.screenshot(path=str(artifacts / "payment-requests-synced.png"))


def test_columns_and_filters_work_without_reloading(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-1", project=1),
        invoice("evt-2", 42, 2, "INV-2", project=2, timestamp="2026-10-14T09:00:00Z"),
    )
    log_in(page, stack.url)
    expect(chip(page, "INV-1")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)

    page.locator("#columns summary").click()
    page.locator('#columns input[data-col="customer"]').uncheck()
    page.select_option('select[name="status"]', "Not Attempted")

    expect(page.locator("tr[data-number]")).to_have_count(1)
    expect(page.locator('tr[data-number="INV-2"]')).to_be_visible()
    expect(page.locator('td[data-col="customer"]').first).to_be_hidden()
    assert page.evaluate("window.__sameDocument") is True
    assert page.url.endswith("/?status=Not+Attempted")

    page.reload()
    expect(page.locator('td[data-col="customer"]').first).to_be_hidden()  # remembered
    expect(page.locator("tr[data-number]")).to_have_count(1)


# issue 13 item 5: chips that say more, the page's own words, empty states, phones, keyboards ---

CLI_TEXT = re.compile(
    r"`|\bsyncledger (?:audit|config|connect|db|disconnect|health|history|ingest|relay|replay|"
    r"retry|serve|status|sync|users|webhook)\b"
)
"""A command-line instruction (the page offers buttons, never commands)."""


def label(page: Any, number: str) -> Any:
    return chip(page, number).locator(".chip-label")


def open_panel(page: Any, number: str) -> Any:
    from playwright.sync_api import expect

    page.locator("a.doc-link[data-doc]", has_text=number).first.click()
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(number, timeout=WAIT_MS)
    return panel


def test_credited_and_refund_due_invoices_have_chips_of_their_own_and_stay_synced(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-201", customer="Paid Then Cancelled"),
        payment("evt-2", 42, 2001, 1, amount="400.00"),
        invoice("evt-3", 42, 2, "INV-202", customer="Cancelled Unpaid"),
        invoice("evt-4", 42, 3, "INV-203", customer="Still Open"),
    )
    log_in(page, stack.url)
    expect(chip(page, "payment 2001")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    expect(chip(page, "INV-202")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)

    stack.post(
        invoice(
            "evt-5",
            42,
            1,
            "INV-201",
            customer="Paid Then Cancelled",
            status="cancelled",
            timestamp="2026-11-25T09:00:00Z",
        ),
        invoice(
            "evt-6",
            42,
            2,
            "INV-202",
            customer="Cancelled Unpaid",
            status="cancelled",
            timestamp="2026-11-25T09:00:00Z",
        ),
    )

    expect(label(page, "INV-201")).to_have_text("Synced · refund due", timeout=WAIT_MS)
    expect(label(page, "INV-202")).to_have_text("Synced · credited", timeout=WAIT_MS)
    expect(label(page, "INV-203")).to_have_text("Synced")
    for number in ("INV-201", "INV-202", "INV-203"):
        expect(chip(page, number)).to_have_attribute("data-status", "Synced")
    expect(chip(page, "INV-201")).to_have_class(re.compile(r"\bchip-refund-due\b"))
    expect(chip(page, "INV-202")).to_have_class(re.compile(r"\bchip-credited\b"))
    assert page.evaluate("window.__sameDocument") is True
    page.screenshot(path=str(artifacts / "payment-requests-credited.png"))

    served = page.request.get(f"{stack.url}/api/documents").json()["documents"]
    by_number = {d["number"]: d for d in served}
    assert {n: by_number[n]["status"] for n in ("INV-201", "INV-202", "INV-203")} == {
        "INV-201": "Synced",
        "INV-202": "Synced",
        "INV-203": "Synced",
    }
    assert by_number["INV-201"]["refund_due"] == "400.00"
    assert by_number["INV-202"]["credited"] == "1000.00" and not by_number["INV-202"]["refund_due"]
    assert stack.cli.status_of("invoice:1")["status"] == "Synced"
    [credit_201, credit_202] = sorted(
        stack.sandbox.state()["credit_notes"], key=lambda c: c["credit_note_number"]
    )
    assert Decimal(credit_201["remaining_credit"]) == Decimal("400.00"), "refund due in Xero"
    assert Decimal(credit_202["remaining_credit"]) == 0, "fully credited in Xero"

    panel = open_panel(page, "INV-201")
    expect(panel.locator(".chip-label")).to_have_text("Synced · refund due")
    expect(panel.locator(".facts")).to_contain_text("Refund due400.00 AUD")
    expect(panel.locator(".facts")).to_contain_text("Credited600.00 AUD")


def test_tooltips_and_the_details_panel_offer_the_pages_own_actions_never_cli_commands(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-301", categories=("sales", "incentives")),
        payment("evt-2", 42, 3001, 1),
        invoice("evt-3", 42, 2, "INV-302", timestamp="2026-10-14T09:00:00Z"),
    )
    log_in(page, stack.url)
    expect(chip(page, "INV-301")).to_have_attribute("data-status", "Failed", timeout=WAIT_MS)
    expect(chip(page, "payment 3001")).to_have_attribute("data-status", "Failed", timeout=WAIT_MS)
    expect(chip(page, "INV-302")).to_have_attribute("data-status", "Not Attempted")
    # The ledger's own words are for the command line ...
    assert "syncledger retry" in stack.cli.status_of("invoice:1")["action"]
    assert "syncledger sync" in stack.cli.status_of("invoice:2")["reason"]

    # ... the page's are about its buttons.
    chip(page, "INV-301").hover()
    expect(chip(page, "INV-301").locator(".tip-todo")).to_have_text(
        "To do: Ask an administrator to map a Xero account for the line category named in the "
        "reason, then press Retry."
    )
    chip(page, "INV-302").hover()
    expect(chip(page, "INV-302").locator(".tip")).to_contain_text("press Sync to send it")
    chip(page, "payment 3001").hover()
    expect(chip(page, "payment 3001").locator(".tip-todo")).to_have_text(
        "To do: Fix invoice INV-301 first (open it to see how); this payment is sent "
        "automatically once the invoice is synced."
    )
    expect(chip(page, "payment 3001").locator(".tip")).to_have_css("opacity", "1")
    expect(page.locator('tr[data-number="payment 3001"] button')).to_have_count(0)
    page.screenshot(path=str(artifacts / "payment-requests-page-words.png"))
    tips = page.locator("#rows .tip").all_text_contents()
    assert len(tips) == 3
    assert [t for t in tips if CLI_TEXT.search(t)] == []

    for number in ("INV-301", "payment 3001", "INV-302"):
        panel = open_panel(page, number)
        expect(panel.locator(".history .event").first).to_be_visible()
        text = panel.inner_text()
        assert not CLI_TEXT.search(text), (number, CLI_TEXT.search(text), text)
    panel = open_panel(page, "INV-301")
    expect(panel.locator(".why-action")).to_have_text(
        "To do: Ask an administrator to map a Xero account for the line category named in the "
        "reason, then press Retry."
    )
    expect(panel.locator(".history")).to_contain_text(
        "to do: ask an administrator to map a Xero account"
    )
    expect(panel.get_by_role("button", name="Retry")).to_be_visible()
    page.screenshot(path=str(artifacts / "payment-requests-page-words-details.png"))
    panel = open_panel(page, "payment 3001")
    expect(panel.get_by_role("button", name="Retry")).to_have_count(0)
    panel.get_by_role("link", name="Open its invoice").click()
    expect(page.locator("#panel h2")).to_have_text("INV-301", timeout=WAIT_MS)


def test_an_organisation_without_documents_says_so_until_the_first_one_arrives(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    log_in(page, stack.url)
    empty = page.locator("#rows tr.empty")

    expect(empty).to_have_text(
        "No documents yet for this organisation — they appear here when OpenSolar sends them."
    )
    page.screenshot(path=str(artifacts / "payment-requests-empty.png"))
    page.set_viewport_size({"width": 360, "height": 740})
    box = empty.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    page.screenshot(path=str(artifacts / "payment-requests-empty-360px.png"))
    page.set_viewport_size({"width": 1280, "height": 800})

    stack.post(invoice("evt-1", 42, 1, "INV-401"))
    expect(chip(page, "INV-401")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    page.select_option('select[name="status"]', "Failed")

    expect(empty).to_have_text("No documents match these filters.", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True


NARROW = (360, 420)


def test_at_360_and_420_pixels_the_header_wraps_and_the_table_scrolls_in_its_container(
    stack: Stack, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-501", customer="Maximilian Bartholomew-Featherstonehaugh"),
        invoice("evt-2", 42, 2, "INV-502", categories=("sales", "incentives")),
        invoice("evt-3", 42, 3, "INV-503", timestamp="2026-10-14T09:00:00Z"),
    )
    for width in NARROW:
        context = browser.new_context(viewport={"width": width, "height": 740})
        try:
            page = context.new_page()
            log_in(page, stack.url)
            for number, status in (("INV-501", "Synced"), ("INV-502", "Failed")):
                expect(chip(page, number)).to_have_attribute("data-status", status, timeout=WAIT_MS)

            logout = page.get_by_role("button", name="Log out")
            box = logout.bounding_box()
            assert box is not None
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, box)
            assert box["y"] >= 0 and box["y"] + box["height"] <= 740, (width, box)
            centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            assert (
                page.evaluate(
                    "([x, y]) => document.elementFromPoint(x, y).closest('button')?.textContent",
                    list(centre),
                )
                == "Log out"
            ), "nothing covers Log out"
            sizes = page.evaluate(
                """() => {
                    const wrap = document.querySelector(".table-wrap");
                    return {
                        page: document.scrollingElement.scrollWidth,
                        view: window.innerWidth,
                        wrap: wrap.clientWidth,
                        table: wrap.scrollWidth,
                    };
                }"""
            )
            assert sizes["view"] == width
            assert sizes["page"] <= width, sizes
            assert sizes["wrap"] <= width and sizes["table"] > sizes["wrap"], sizes
            page.locator(".table-wrap").evaluate("wrap => { wrap.scrollLeft = wrap.scrollWidth; }")
            assert page.locator(".table-wrap").evaluate("wrap => wrap.scrollLeft") > 0

            failed = chip(page, "INV-502")
            failed.focus()
            tip = failed.locator(".tip")
            expect(tip).to_have_css("opacity", "1")
            tip_box = tip.bounding_box()
            assert tip_box is not None
            assert tip_box["x"] >= 0 and tip_box["x"] + tip_box["width"] <= width, tip_box
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width
            page.screenshot(path=str(artifacts / f"payment-requests-{width}px.png"))

            panel = open_panel(page, "INV-502")
            panel_box = panel.bounding_box()
            assert panel_box is not None and panel_box["x"] >= 0
            assert panel_box["x"] + panel_box["width"] <= width, panel_box
            page.screenshot(path=str(artifacts / f"payment-requests-{width}px-details.png"))
            page.keyboard.press("Escape")
            expect(panel).to_be_hidden()

            logout.click()
            page.wait_for_url(f"{stack.url}/login")
        finally:
            context.close()


def test_keyboard_tab_reaches_a_failed_chip_that_announces_its_error(
    stack: Stack, page: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    stack.post(
        invoice("evt-1", 42, 1, "INV-601"),
        invoice("evt-2", 42, 2, "INV-602", categories=("sales", "incentives")),
    )
    log_in(page, stack.url)
    expect(chip(page, "INV-602")).to_have_attribute("data-status", "Failed", timeout=WAIT_MS)
    expect(chip(page, "INV-601")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    error = stack.cli.status_of("invoice:2")["error"]

    reached = None
    for _ in range(40):
        page.keyboard.press("Tab")
        reached = page.evaluate(
            """() => {
                const el = document.activeElement;
                return el && el.matches(".chip") ? el.dataset.status : null;
            }"""
        )
        if reached == "Failed":
            break
    assert reached == "Failed", "Tab never reached the Failed chip"

    focused = page.locator(".chip:focus")
    expect(focused).to_have_attribute("data-status", "Failed")
    described = page.evaluate(
        """() => document.activeElement.getAttribute("aria-describedby").split(" ")
            .map(id => document.getElementById(id).textContent)"""
    )
    assert described[0] == error
    assert described[1].startswith("To do: ") and "press Retry" in described[1]
    expect(focused.locator(".tip")).to_have_css("opacity", "1")
    page.screenshot(path=str(artifacts / "payment-requests-keyboard.png"))

    stack.post(invoice("evt-3", 42, 3, "INV-603"))  # a live update re-renders the rows
    expect(chip(page, "INV-603")).to_have_attribute("data-status", "Synced", timeout=WAIT_MS)
    expect(page.locator(".chip:focus")).to_have_attribute("data-status", "Failed")
    focused = page.locator(".chip:focus")

    page.keyboard.press("Escape")
    expect(focused.locator(".tip")).to_have_css("opacity", "0")
    page.keyboard.press("Tab")
    expect(page.locator('tr[data-number="INV-602"] button:focus')).to_have_text("Retry")
