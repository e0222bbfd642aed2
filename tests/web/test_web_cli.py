"""The ``users``, ``webhook`` and ``serve`` commands: parsing and exit codes with click's
CliRunner, and ``serve`` as a real process stopped by SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from outbox.secrets import SecretBox
from syncledger.bootstrap import System
from syncledger.cli.web import serve_command, users_group, webhook_group
from syncledger.config import Settings
from syncledger.web.store import WebStore
from tests.web.conftest import SECRET_KEY


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def ledgers(tmp_path: Path) -> None:
    """Ledgers at ``ledger.db`` and ``l.db`` in the test's folder that know organisation 42: the
    web commands need a ledger to exist, and ``users`` an organisation it knows."""
    for name in ("ledger.db", "l.db"):
        with System.open(Settings(db=str(tmp_path / name))) as system:
            system.ledger.map_account("42", "sales", "200")


@contextmanager
def store_of(db: Path) -> Iterator[WebStore]:
    with System.open(Settings(db=str(db))) as system:
        assert system.database is not None
        yield WebStore(system.database)


@pytest.mark.usefixtures("ledgers")
def test_users_add_hashes_the_password_and_users_list_shows_the_user(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.db")

    added = runner.invoke(
        users_group,
        ["add", "42", "Jane@Example.com", "--password-stdin", "--db", db],
        input="a long password\n",
    )
    listed = runner.invoke(users_group, ["list", "--json", "--db", db])

    assert added.exit_code == 0, added.output
    assert added.output == "added user jane@example.com of organisation 42\n"
    assert json.loads(listed.output)[0] | {"created_at": ""} == {
        "email": "jane@example.com",
        "org": "42",
        "admin": False,
        "created_at": "",
    }
    with store_of(tmp_path / "ledger.db") as store:
        found = store.user_for_login("jane@example.com")
        assert found is not None
        assert found[1].startswith("scrypt$") and "a long password" not in found[1]


@pytest.mark.usefixtures("ledgers")
def test_users_add_prompts_twice_for_the_password(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")

    added = runner.invoke(
        users_group,
        ["add", "42", "boss@example.com", "--admin", "--db", db],
        input="a long password\na long password\n",
    )

    assert added.exit_code == 0, added.output
    assert "added administrator boss@example.com of organisation 42" in added.output


@pytest.mark.usefixtures("ledgers")
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "42", "not-an-email", "--password-stdin"], "a long password\n", "not an email"),
        (["add", "42", "j@example.com", "--password-stdin"], "short\n", "at least 8 characters"),
        (["add", "42", "j@example.com", "--password-stdin"], "", "held no password"),
        (["add", "42"], "", "Missing argument 'EMAIL'"),
    ],
    ids=["bad-email", "short-password", "no-password", "missing-email"],
)
def test_users_add_mistakes_exit_2_with_a_usage_message(
    runner: CliRunner, tmp_path: Path, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(users_group, [*args, "--db", str(tmp_path / "l.db")], input=stdin)

    assert result.exit_code == 2
    assert message in result.output
    assert "Usage:" in result.output
    assert "Traceback" not in result.output


@pytest.mark.usefixtures("ledgers")
def test_adding_a_user_twice_or_removing_a_stranger_exits_1(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.db")
    args = ["add", "42", "jane@example.com", "--password-stdin", "--db", db]
    runner.invoke(users_group, args, input="a long password\n")

    again = runner.invoke(users_group, args, input="a long password\n")
    stranger = runner.invoke(users_group, ["remove", "who@example.com", "--db", db])
    removed = runner.invoke(users_group, ["remove", "jane@example.com", "--db", db])

    assert (again.exit_code, again.output) == (1, "Error: a user jane@example.com already exists\n")
    assert (stranger.exit_code, stranger.output) == (1, "Error: no user who@example.com\n")
    assert removed.exit_code == 0


def test_an_unopenable_database_exits_1_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(users_group, ["list", "--db", str(tmp_path / "missing" / "l.db")])

    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert result.output.count("\n") == 1


@pytest.mark.usefixtures("ledgers")
def test_webhook_secret_is_printed_once_and_stored_sealed(
    runner: CliRunner, tmp_path: Path
) -> None:
    db = str(tmp_path / "ledger.db")
    env = {"SYNCLEDGER_SECRET_KEY": SECRET_KEY}

    created = runner.invoke(webhook_group, ["secret", "42", "--db", db], env=env)
    again = runner.invoke(webhook_group, ["secret", "42", "--db", db], env=env)
    rotated = runner.invoke(webhook_group, ["secret", "42", "--rotate", "--db", db], env=env)

    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert len(secret) >= 40
    assert again.exit_code == 1 and "use --rotate" in again.output
    assert rotated.exit_code == 0 and rotated.stdout.strip() != secret
    stored = (tmp_path / "ledger.db").read_bytes()
    assert secret.encode() not in stored and rotated.stdout.strip().encode() not in stored
    with store_of(tmp_path / "ledger.db") as store:
        assert store.webhook_secret("42", SecretBox(SECRET_KEY)) == rotated.stdout.strip()


@pytest.mark.usefixtures("ledgers")
def test_webhook_secret_without_a_secret_key_exits_1(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        webhook_group,
        ["secret", "42", "--db", str(tmp_path / "l.db")],
        env={"SYNCLEDGER_SECRET_KEY": ""},
    )

    assert result.exit_code == 1
    assert "SYNCLEDGER_SECRET_KEY must be set" in result.output


@pytest.mark.usefixtures("ledgers")
def test_webhook_revoke_and_list(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "ledger.db")
    env = {"SYNCLEDGER_SECRET_KEY": SECRET_KEY}
    runner.invoke(webhook_group, ["secret", "42", "--db", db], env=env)

    listed = runner.invoke(webhook_group, ["list", "--db", db])
    revoked = runner.invoke(webhook_group, ["revoke", "42", "--db", db])
    twice = runner.invoke(webhook_group, ["revoke", "42", "--db", db])

    assert listed.output.startswith("42  (since ")
    assert revoked.exit_code == 0
    assert twice.exit_code == 1


def test_serve_option_mistakes_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(serve_command, ["--port", "70000"])

    assert result.exit_code == 2
    assert "Usage:" in result.output


def test_every_command_and_option_has_help(runner: CliRunner) -> None:
    import click

    def walk(command: click.Command) -> Iterator[click.Command]:
        yield command
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub)

    for root in (serve_command, users_group, webhook_group):
        for command in walk(root):
            assert command.help, command.name
            for param in command.params:
                if isinstance(param, click.Option) and param.name != "help":
                    assert param.help, f"{command.name} {param.name}"


def test_attach_adds_serve_users_and_webhook_to_a_group() -> None:
    import click

    from syncledger.cli.web import attach

    group = click.Group("syncledger")
    attach(group)

    assert set(group.commands) == {"serve", "users", "webhook"}
    assert set(users_group.commands) == {"add", "list", "remove", "password"}
    assert set(webhook_group.commands) == {"secret", "list", "revoke"}


# serve as a process ---------------------------------------------------------------------------


def serve_env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNCLEDGER_")}
    env.update(SYNCLEDGER_DB=str(db), SYNCLEDGER_SECRET_KEY=SECRET_KEY)
    return env


def start_serve(db: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "syncledger.web", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=serve_env(db),
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        raise AssertionError(
            f"serve did not start: {process.stderr.read() if process.stderr else ''}"
        )
    return process, json.loads(line)["url"]


@pytest.mark.e2e
def test_serve_runs_the_relay_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    process, url = start_serve(db)
    try:
        health = httpx.get(f"{url}/healthz").json()
        second = subprocess.run(
            [sys.executable, "-m", "syncledger.web", "serve", "--port", "0"],
            capture_output=True,
            text=True,
            env=serve_env(db),
            timeout=30,
        )
    finally:
        process.send_signal(signal.SIGTERM)
        code = process.wait(20)
        _, stderr = process.communicate()

    assert health["relay"] == {"enabled": True, "running": True}
    assert second.returncode == 1
    assert "another relay" in second.stderr and "--no-relay" in second.stderr
    assert "Traceback" not in second.stderr
    assert code == 0, stderr
    assert "relay stopped" in stderr
    assert "Traceback" not in stderr
