"""Every ``syncledger ...`` command the README and ``docs/*.md`` show is one the CLI accepts.

Commands are taken from fenced code blocks (any line, or part of a line after ``&&``, ``|``,
``;`` or ``&``, whose first word after environment assignments is ``syncledger``) and from
inline code spans that start with ``syncledger ``. Each is checked against the click objects
themselves, with no subprocess: the command path must resolve from the root group, every option
must exist on the command it follows (options before the subcommand on the root group), a
``Choice`` option's literal value must be one of its choices, and the number of positional
arguments must fit the command's click arguments.

Placeholders need no special care (``ORG``, ``FILE``, ``URL`` are positional values like any
other); ``[--opt]`` brackets are dropped, ``<x>`` counts as one word, ``DOC...`` as one
positional, and a bare ``...`` means "and more" (the count is then not bounded above).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest

from syncledger.cli import main as root_group

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

FENCE = re.compile(r"^\s*(```|~~~)")
INLINE = re.compile(r"(?<!`)`(syncledger\s[^`]+)`(?!`)")
PLACEHOLDER = re.compile(r"<[^<>\s]+>")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {"&&", "||", "|", ";", "&"}
REDIRECTS = {">", ">>", "<", "<<", ">&", "&>", "<>", ">|"}
HELP = {"--help", "-h"}
ELLIPSIS = {"...", "…"}


@dataclass(frozen=True)
class Shown:
    """One command as a page shows it."""

    path: Path
    line: int
    text: str

    def __str__(self) -> str:
        return f"{_name(self.path)}:{self.line}: {self.text}"


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _read(path: Path) -> tuple[list[tuple[int, str]], str]:
    """The shell lines of a page's code blocks, as (line number, text) with ``\\``
    continuations joined, and its prose: the page with every code block line blanked, so that
    line numbers still count."""
    block_lines: list[tuple[int, str]] = []
    prose: list[str] = []
    in_block = False
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if FENCE.match(raw):
            in_block = not in_block
            prose.append("")
            continue
        if not in_block:
            prose.append(raw)
            continue
        prose.append("")
        at, text = number, raw
        if pending is not None:
            at, text = pending[0], pending[1] + " " + raw.strip()
            pending = None
        if text.rstrip().endswith("\\"):
            pending = (at, text.rstrip()[:-1])
            continue
        block_lines.append((at, text))
    return block_lines, "\n".join(prose)


def shown_commands(path: Path) -> list[Shown]:
    """The ``syncledger`` commands a page shows, in code blocks and inline code spans (which
    may wrap onto the next line, as Markdown allows)."""
    block_lines, prose = _read(path)
    found = [
        Shown(path, number, command)
        for number, text in block_lines
        for command in _commands_in_shell(text, path, number)
    ]
    for match in INLINE.finditer(prose):
        if "\n\n" in match.group(1):
            continue  # no span crosses a paragraph
        number = prose.count("\n", 0, match.start()) + 1
        text = " ".join(match.group(1).split()).replace("\\|", "|")  # | escaped in a table
        found.extend(Shown(path, number, c) for c in _commands_in_shell(text, path, number))
    return sorted(found, key=lambda shown: shown.line)


def _tokens(text: str, path: Path, number: int) -> list[str]:
    text = PLACEHOLDER.sub("PLACEHOLDER", text.strip().removeprefix("$ "))
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    try:
        return list(lexer)
    except ValueError as exc:
        pytest.fail(f"{_name(path)}:{number}: cannot split {text!r}: {exc}")


def _commands_in_shell(text: str, path: Path, number: int) -> list[str]:
    """The parts of one shell line that run ``syncledger``, each as a normalised string."""
    if "syncledger" not in text:
        return []
    commands: list[list[str]] = []
    current: list[str] = []
    tokens = _tokens(text, path, number)
    skip_next = False
    for index, token in enumerate(tokens):
        if skip_next:
            skip_next = False
            continue
        if token in SEPARATORS:
            commands.append(current)
            current = []
        elif token in REDIRECTS:
            skip_next = True
        elif token.isdigit() and index + 1 < len(tokens) and tokens[index + 1] in REDIRECTS:
            continue  # the 2 of 2>/dev/null
        else:
            current.append(token)
    commands.append(current)
    shown: list[str] = []
    for command in commands:
        start = 0
        while start < len(command) and ENV_ASSIGNMENT.match(command[start]):
            start += 1
        words = [w for w in (w.strip("[]") for w in command[start:]) if w]
        if words and words[0] == "syncledger":
            shown.append(shlex.join(words))
    return shown


def _option(command: click.Command, name: str) -> click.Option | None:
    for param in command.params:
        if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
            return param
    return None


def _takes_value(option: click.Option) -> bool:
    return not (option.is_flag or option.count)


def _check_value(option: click.Option, value: str) -> str | None:
    """A problem with a literal value of a Choice option (placeholders pass)."""
    if not isinstance(option.type, click.Choice) or _is_placeholder(value):
        return None
    choices = [str(c) for c in option.type.choices]
    if option.type.case_sensitive:
        ok = value in choices
    else:
        ok = value.lower() in [c.lower() for c in choices]
    return None if ok else f"{option.opts[0]} {value!r} is not one of {choices}"


def _is_placeholder(value: str) -> bool:
    return value == "PLACEHOLDER" or bool(re.fullmatch(r"[A-Z][A-Z0-9_]*(\.\.\.)?", value))


def _take_options(
    command: click.Command, words: list[str], index: int, *, stop_at_positional: bool
) -> tuple[int, list[str], list[str], bool]:
    """Read options (and, unless ``stop_at_positional``, positionals) from ``words[index:]``:
    (next index, positionals, problems, help asked)."""
    positionals: list[str] = []
    problems: list[str] = []
    asked_help = False
    only_positionals = False
    while index < len(words):
        word = words[index]
        if only_positionals or word == "-" or not word.startswith("-"):
            if stop_at_positional:
                break
            positionals.append(word)
            index += 1
            continue
        if word == "--":
            only_positionals = True
            index += 1
            continue
        if word in HELP:
            asked_help = True
            index += 1
            continue
        name, has_value, value = word.partition("=")
        option = _option(command, name)
        if option is None:
            problems.append(f"no option {name} on `{command.name}`")
            index += 1
            continue
        index += 1
        if _takes_value(option):
            if not has_value:
                if index >= len(words):
                    problems.append(f"{name} needs a value")
                    break
                value = words[index]
                index += 1
            problem = _check_value(option, value)
            if problem:
                problems.append(problem)
        elif has_value:
            problems.append(f"{name} is a flag and takes no value")
    return index, positionals, problems, asked_help


def problems_with(text: str) -> list[str]:
    """Why the CLI would not accept this command line ([] when it would)."""
    words = [w for w in (w.strip("[]") for w in shlex.split(text)) if w]
    command: click.Command = root_group
    path = ["syncledger"]
    index = 1
    problems: list[str] = []
    asked_help = False
    while isinstance(command, click.Group):
        index, _, found, helped = _take_options(command, words, index, stop_at_positional=True)
        problems += found
        asked_help = asked_help or helped
        if index >= len(words):
            return problems  # a group on its own shows its help
        name = words[index]
        if name in ELLIPSIS:
            return problems
        ctx = click.Context(command, info_name=path[-1])
        sub = command.get_command(ctx, name)
        if sub is None:
            return [*problems, f"no command `{' '.join([*path, name])}`"]
        command, index = sub, index + 1
        path.append(name)
    _, positionals, found, helped = _take_options(command, words, index, stop_at_positional=False)
    problems += found
    if asked_help or helped:
        return problems
    unbounded = any(p in ELLIPSIS for p in positionals)
    count = len([p for p in positionals if p not in ELLIPSIS])
    arguments = [p for p in command.params if isinstance(p, click.Argument)]
    least = sum(a.nargs if a.nargs > 0 else 1 for a in arguments if a.required)
    most = None if any(a.nargs == -1 for a in arguments) else sum(a.nargs for a in arguments)
    name = " ".join(path)
    if count < least:
        problems.append(f"`{name}` needs {least} argument(s), {count} given")
    if most is not None and count > most and not unbounded:
        problems.append(f"`{name}` takes at most {most} argument(s), {count} given: {positionals}")
    return problems


ALL_SHOWN = [shown for page in DOCS for shown in shown_commands(page)]


def test_the_readme_and_the_docs_show_commands():
    pages = {shown.path.name for shown in ALL_SHOWN}
    assert "README.md" in pages
    assert len(ALL_SHOWN) > 50


@pytest.mark.parametrize("shown", ALL_SHOWN, ids=str)
def test_every_command_shown_in_the_docs_is_accepted_by_the_cli(shown):
    problems = problems_with(shown.text)
    assert not problems, f"{shown}\n  " + "\n  ".join(problems)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("syncledger status --org 42 --json", []),
        ("syncledger --db ledger.db retry INV-1 INV-2", []),
        ("syncledger config map-account ORG CATEGORY CODE [--no-check]", []),
        ("syncledger retry DOC... [--org ORG]", []),
        ("syncledger sandbox --port 8001 ...", []),
        ("syncledger nosuch", ["no command `syncledger nosuch`"]),
        ("syncledger config nosuch 42", ["no command `syncledger config nosuch`"]),
        ("syncledger status --nosuch", ["no option --nosuch on `status`"]),
        ("syncledger --json status", ["no option --json on `main`"]),
        ("syncledger history", ["`syncledger history` needs 1 argument(s), 0 given"]),
        ("syncledger history --help", []),
        ("syncledger replay --projection nosuch", ["--projection 'nosuch' is not one of"]),
    ],
)
def test_the_checker_itself(text, expected):
    problems = problems_with(text)
    assert len(problems) == len(expected)
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start)


def test_commands_are_found_in_blocks_spans_and_chains(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Run `syncledger status --wide` or `python -m pytest`, or `syncledger\n"
        "health --json`.\n"
        "```sh\n"
        "SYNCLEDGER_DB=x.db syncledger relay --until-idle 2>/dev/null && syncledger status\n"
        "syncledger connect 42 --xero-url URL \\\n"
        "    --tenant-id ID   # a comment\n"
        "syncledger sandbox > sandbox.json &\n"
        "echo syncledger status\n"
        "```\n",
        encoding="utf-8",
    )
    found = [s.text for s in shown_commands(page)]
    assert found == [
        "syncledger status --wide",
        "syncledger health --json",
        "syncledger relay --until-idle",
        "syncledger status",
        "syncledger connect 42 --xero-url URL --tenant-id ID",
        "syncledger sandbox",
    ]
