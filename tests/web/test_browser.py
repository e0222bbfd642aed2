"""The Payment Requests page in headless Chromium (Debian's ``chromium``; nothing is downloaded),
against a real ``syncledger serve`` process, a real Xero sandbox and the real CLI.

Screenshots are left in ``tests/artifacts/``; the one of all four statuses is copied to
``docs/payment-requests.png`` for the README when that file is missing or
``SYNCLEDGER_UPDATE_DOCS=1``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from syncledger.web.auth import signature
from tests.e2e.conftest import Cli, SandboxProcess, start_sandbox, stop_process
from tests.web.conftest import JANE, PASSWORD, SECRET_KEY, invoice, payment

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
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
    if not CHROMIUM.exists():
        if os.environ.get("SYNCLEDGER_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
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
    expect(tooltip).to_have_text(
        "Missing Ledger Account: no Xero account is mapped for line category 'incentives'"
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
