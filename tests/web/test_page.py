"""The Payment Requests page over real HTTP: login, sessions, CSRF, actions, live updates, and
that an organisation's users see and act on their organisation's documents only."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime

import httpx
import pytest

from syncledger import service
from syncledger.web.store import WebStore
from tests.web.conftest import (
    ADMIN,
    JANE,
    OLLY,
    PASSWORD,
    XERO_DOWN,
    Running,
    invoice,
    login,
)


def connect(web: Running, org: str, *, at: str = "2026-11-01T00:00:00+00:00") -> None:
    with web.open() as system:
        system.ledger.connect(org, XERO_DOWN, "tenant", datetime.fromisoformat(at), "manual")
        system.ledger.map_account(org, "sales", "200")


@pytest.fixture
def documents(web: Running) -> Running:
    """Organisation 42: INV-42-A Failed (unmapped category) and INV-42-B Not Attempted (issued
    before the connection); organisation 43: INV-43-A Failed and INV-43-B Not Attempted."""
    for org in ("42", "43"):
        connect(web, org)
        web.ingest(
            invoice(f"evt-{org}-1", org, 1, f"INV-{org}-A", categories=("sales", "incentives")),
            invoice(
                f"evt-{org}-2", org, 2, f"INV-{org}-B", timestamp="2026-10-01T09:00:00Z", project=9
            ),
        )
    web.relay_until_idle()
    assert {v.row.number: v.row.status for v in web.statuses()} == {
        "INV-42-A": "Failed",
        "INV-42-B": "Not Attempted",
        "INV-43-A": "Failed",
        "INV-43-B": "Not Attempted",
    }
    return web


def doc_id(web: Running, number: str) -> str:
    return web.view(number).row.doc_id


def numbers_in(html: str) -> set[str]:
    return set(re.findall(r'data-number="([^"]+)"', html))


def first_live_update(client: httpx.Client, query: str = "") -> dict[str, object]:
    with client.stream("GET", f"/api/events?{query}") as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        event = None
        for line in answer.iter_lines():
            if line.startswith("event: "):
                event = line[len("event: ") :]
            elif line.startswith("data: ") and event == "documents":
                data: dict[str, object] = json.loads(line[len("data: ") :])
                return data
    raise AssertionError("no documents event")


# login and sessions ---------------------------------------------------------------------------


def test_the_page_sends_a_visitor_who_is_not_logged_in_to_the_login_form(web: Running) -> None:
    answer = httpx.get(f"{web.url}/?status=Failed")

    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2F%3Fstatus%3DFailed"
    assert httpx.get(f"{web.url}/api/documents").status_code == 401
    assert httpx.get(f"{web.url}/api/events").status_code == 401


def test_a_wrong_password_is_refused_without_a_session(web: Running) -> None:
    with httpx.Client(base_url=web.url) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        answer = client.post(
            "/login", data={"email": JANE, "password": "wrong password", "csrf": csrf.group(1)}
        )

        assert answer.status_code == 401
        assert "Wrong email or password." in answer.text
        assert "syncledger_session" not in client.cookies
        assert client.get("/").status_code == 303


def test_a_login_form_without_its_csrf_cookie_is_refused(web: Running) -> None:
    answer = httpx.post(
        f"{web.url}/login", data={"email": JANE, "password": PASSWORD, "csrf": "forged"}
    )

    assert answer.status_code == 401
    assert "The form expired" in answer.text


def test_the_session_cookie_is_http_only_and_expires_with_the_session(web: Running) -> None:
    with httpx.Client(base_url=web.url) as client:
        form = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert csrf is not None
        answer = client.post(
            "/login", data={"email": JANE, "password": PASSWORD, "csrf": csrf.group(1)}
        )

    cookie = answer.headers["set-cookie"]
    assert "syncledger_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert f"Max-Age={8 * 3600}" in cookie


def test_sessions_expire(web: Running) -> None:
    with web.open() as system:
        assert system.database is not None
        store = WebStore(system.database)
        found = store.user_for_login(JANE)
        assert found is not None
        token, _ = store.start_session(found[0], now=1000, lifetime=60)

        assert store.session(token, now=1059) is not None
        assert store.session(token, now=1060) is None


def test_logging_out_ends_the_session(web: Running) -> None:
    client, csrf = login(web.url, JANE)
    cookie = client.cookies["syncledger_session"]
    answer = client.post("/logout", data={"csrf": csrf})
    client.close()

    assert answer.status_code == 303
    stale = httpx.get(f"{web.url}/", cookies={"syncledger_session": cookie})
    assert stale.status_code == 303


# what each viewer sees ------------------------------------------------------------------------


def test_a_user_sees_the_documents_of_their_organisation_only(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane

    page = client.get("/")
    listed = client.get("/api/documents").json()["documents"]
    other_org = client.get("/?org=43")

    assert numbers_in(page.text) == {"INV-42-A", "INV-42-B"}
    assert {d["number"] for d in listed} == {"INV-42-A", "INV-42-B"}
    assert numbers_in(other_org.text) == {"INV-42-A", "INV-42-B"}
    assert "Organisation 42" in page.text


def test_an_administrator_sees_every_organisation_and_can_filter_one(
    documents: Running, as_admin: tuple[httpx.Client, str]
) -> None:
    client, _ = as_admin

    assert numbers_in(client.get("/").text) == {"INV-42-A", "INV-42-B", "INV-43-A", "INV-43-B"}
    assert numbers_in(client.get("/?org=43").text) == {"INV-43-A", "INV-43-B"}


def test_the_page_filters_by_status_and_project(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane

    assert numbers_in(client.get("/?status=Failed").text) == {"INV-42-A"}
    assert numbers_in(client.get("/?project=9").text) == {"INV-42-B"}
    assert numbers_in(client.get("/?status=Failed&project=9").text) == set()


def test_a_failed_row_has_a_red_chip_with_the_error_as_tooltip_and_a_retry_button(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane

    page = client.get("/?status=Failed").text

    row = re.search(r'<tr data-doc="[^"]+" data-number="INV-42-A".*?</tr>', page, re.S)
    assert row is not None
    assert 'class="chip chip-failed"' in row.group(0)
    assert '<span class="tip" role="tooltip" id="tip-' in row.group(0)
    assert (
        "Missing Ledger Account: no Xero account is mapped for line category &#x27;incentives&#x27;"
        in row.group(0)
    )
    assert ">Retry</button>" in row.group(0)


def test_a_failed_chip_is_focusable_and_describes_its_error_and_the_pages_action(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane
    error = documents.view("INV-42-A").row.error
    assert error is not None

    page = client.get("/").text
    panel = client.get(f"/documents/{doc_id(documents, 'INV-42-A')}/panel").text

    chip = re.search(r'<span class="chip chip-failed"[^>]*>', page)
    assert chip is not None and 'tabindex="0"' in chip.group(0)
    described = re.search(r'aria-describedby="([^"]+)"', chip.group(0))
    assert described is not None
    text_id, todo_id = described.group(1).split()
    text = re.search(rf'id="{text_id}">([^<]*)</span>', page)
    todo = re.search(rf'id="{todo_id}">([^<]*)</span>', page)
    assert text is not None and todo is not None
    assert html.unescape(text.group(1)) == error
    assert todo.group(1).startswith("To do: Ask an administrator") and "press Retry" in todo.group(
        1
    )
    for shown in (page, panel):
        assert "syncledger retry" not in shown and "syncledger config" not in shown
    assert "press Sync to send it" in page  # INV-42-B, issued before the connection
    assert "syncledger retry" in documents.view("INV-42-A").row.action  # the ledger's words


def test_an_organisation_without_documents_says_so_and_filters_that_hide_them_all_say_that(
    web: Running, as_jane: tuple[httpx.Client, str], as_admin: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane
    admin, _ = as_admin
    nothing_yet = (
        "No documents yet for this organisation — they appear here when OpenSolar sends them."
    )

    empty_page = client.get("/?status=Failed").text
    empty_live = first_live_update(client)
    admin_page = admin.get("/?org=44").text
    connect(web, "42")
    web.ingest(invoice("evt-1", "42", 1, "INV-1"))
    filtered_page = client.get("/?status=Failed").text

    assert nothing_yet in empty_page and "match these filters" not in empty_page
    assert nothing_yet in str(empty_live["rows"])
    assert "No documents yet for organisation 44" in admin_page
    assert "No documents match these filters." in filtered_page
    assert nothing_yet not in filtered_page


def test_the_details_panel_shows_the_history_and_is_refused_for_another_organisation(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane
    own, other = doc_id(documents, "INV-42-A"), doc_id(documents, "INV-43-A")

    panel = client.get(f"/documents/{own}/panel")
    data = client.get(f"/api/documents/{own}").json()

    assert panel.status_code == 200
    assert "History" in panel.text and "Missing Ledger Account" in panel.text
    assert [e["type"] for e in data["history"]][:2] == ["Invoice.Received", "Invoice.Issued"]
    assert client.get(f"/documents/{other}/panel").status_code == 404
    assert client.get(f"/api/documents/{other}").status_code == 404
    assert "INV-43-A" not in client.get(f"/?doc={other}").text


def test_live_updates_carry_only_the_viewers_organisation(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, _ = as_jane

    update = first_live_update(client, "org=43")

    listed = update["documents"]
    assert isinstance(listed, list)
    assert {d["number"] for d in listed} == {"INV-42-A", "INV-42-B"}
    assert numbers_in(str(update["rows"])) == {"INV-42-A", "INV-42-B"}
    assert update["failed"] == 1


# actions --------------------------------------------------------------------------------------


def test_retry_appends_a_retry_and_the_document_turns_pending(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_jane
    with documents.open() as system:
        system.ledger.map_account("42", "incentives", "260")

    answer = client.post(
        f"/documents/{doc_id(documents, 'INV-42-A')}/retry",
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )

    assert answer.status_code == 200
    assert answer.json() == {
        "done": ["INV-42-A (invoice:1): retry requested"],
        "refused": [],
        "notice": "INV-42-A (invoice:1): retry requested",
    }
    assert documents.view("INV-42-A").row.status == "Pending"
    row = documents.view("INV-42-A").row
    with documents.open() as system:
        events = service.history(system, row.doc_id, row.org)[1]
    assert events[-1].reason == f"retry requested on the Payment Requests page by {JANE}"


def test_sync_requests_a_not_attempted_document(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_jane

    answer = client.post(
        f"/documents/{doc_id(documents, 'INV-42-B')}/sync",
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )

    assert answer.status_code == 200
    assert answer.json()["done"] == ["INV-42-B (invoice:2): sync requested"]
    assert documents.view("INV-42-B").row.status == "Pending"


def test_an_action_without_javascript_redirects_back_with_a_notice(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_jane

    answer = client.post(
        f"/documents/{doc_id(documents, 'INV-42-B')}/sync",
        data={"csrf": csrf, "back": "status=Not+Attempted&project=9&evil=1"},
    )

    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/?status=Not+Attempted&project=9&notice=")
    assert "evil" not in answer.headers["location"]


def test_a_refused_action_says_why(documents: Running, as_jane: tuple[httpx.Client, str]) -> None:
    client, csrf = as_jane

    answer = client.post(
        f"/documents/{doc_id(documents, 'INV-42-B')}/retry",
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )

    assert answer.status_code == 409
    assert answer.json()["refused"] == ["invoice:2 is not Failed; nothing to retry"]
    assert answer.json()["notice"] == "Refused: invoice:2 is not Failed; nothing to retry"


def test_a_user_cannot_act_on_another_organisations_documents(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_jane
    headers = {"X-CSRF-Token": csrf, "Accept": "application/json"}
    before = {n: documents.history_length(n) for n in ("INV-43-A", "INV-43-B")}

    retry = client.post(f"/documents/{doc_id(documents, 'INV-43-A')}/retry", headers=headers)
    sync = client.post(f"/documents/{doc_id(documents, 'INV-43-B')}/sync", headers=headers)
    bulk = client.post("/documents/retry-failed", data={"org": "43"}, headers=headers)

    assert (retry.status_code, sync.status_code) == (404, 404)
    assert bulk.json()["done"] == ["INV-42-A (invoice:1): retry requested"]
    assert {n: documents.history_length(n) for n in before} == before
    assert documents.view("INV-43-A").row.status == "Failed"


def test_retry_all_failed_as_administrator_retries_every_organisation(
    documents: Running, as_admin: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_admin

    answer = client.post(
        "/documents/retry-failed",
        data={"org": ""},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
    )

    assert sorted(answer.json()["done"]) == [
        "INV-42-A (invoice:1): retry requested",
        "INV-43-A (invoice:1): retry requested",
    ]


def test_actions_need_the_csrf_token_and_a_same_site_origin(
    documents: Running, as_jane: tuple[httpx.Client, str]
) -> None:
    client, csrf = as_jane
    target = f"/documents/{doc_id(documents, 'INV-42-B')}/sync"

    missing = client.post(target, headers={"Accept": "application/json"})
    wrong = client.post(target, headers={"X-CSRF-Token": "forged", "Accept": "application/json"})
    cross = client.post(
        target,
        headers={
            "X-CSRF-Token": csrf,
            "Origin": "https://evil.example",
            "Accept": "application/json",
        },
    )
    anonymous = httpx.post(f"{documents.url}{target}", headers={"Accept": "application/json"})

    assert [missing.status_code, wrong.status_code, cross.status_code] == [403, 403, 403]
    assert anonymous.status_code == 401
    assert documents.view("INV-42-B").row.status == "Not Attempted"


def test_another_organisations_user_sees_their_own(documents: Running) -> None:
    client, _ = login(documents.url, OLLY)
    page = client.get("/")
    client.close()

    assert numbers_in(page.text) == {"INV-43-A", "INV-43-B"}


def test_the_page_carries_security_headers(as_jane: tuple[httpx.Client, str]) -> None:
    client, _ = as_jane

    answer = client.get("/")

    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["cache-control"] == "no-store"
    assert "<script>" not in answer.text


def test_static_files_are_served_under_their_hash(web: Running) -> None:
    page = httpx.get(f"{web.url}/login")
    css = re.search(r'href="(/static/app.css\?v=[0-9a-f]+)"', page.text)
    js = re.search(r'src="(/static/app.js\?v=[0-9a-f]+)"', page.text)
    assert css is not None and js is not None

    assert httpx.get(f"{web.url}{css.group(1)}").headers["content-type"].startswith("text/css")
    assert "EventSource" in httpx.get(f"{web.url}{js.group(1)}").text
    assert httpx.get(f"{web.url}/static/nothing.js").status_code == 404


def test_an_administrator_is_named_as_such(as_admin: tuple[httpx.Client, str]) -> None:
    client, _ = as_admin

    assert "Administrator (all organisations)" in client.get("/").text
    assert ADMIN in client.get("/").text
