"""Benchmark results and the one markdown table they are printed as."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Row:
    """One line of the table: a figure measured on one backend."""

    figure: str
    backend: str
    result: str
    target: str
    met: bool | None = None
    baseline: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        if self.met is None:
            return "report"
        return "yes" if self.met else "**no**"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def table(rows: list[Row]) -> str:
    """The rows as one markdown table."""
    lines = [
        "| figure | backend | result | baseline (same run) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        cells = [row.figure, row.backend, row.result, row.baseline or "–", row.target, row.verdict]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return "\n".join(lines)


def notes(rows: list[Row]) -> str:
    """The notes each row carries (how it was measured, what limits it), as a list."""
    lines: list[str] = []
    for row in rows:
        for note in row.notes:
            lines.append(f"- **{row.figure}, {row.backend}**: {note}")
    return "\n".join(lines)


def rate(value: float, unit: str) -> str:
    if value >= 100:
        return f"{value:,.0f} {unit}"
    return f"{value:,.1f} {unit}"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
