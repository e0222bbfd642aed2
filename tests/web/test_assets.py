"""The page's static files are package data: declared in pyproject so an installed (not editable)
package carries them, served byte for byte, and the stylesheet can hide every hideable column."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

import syncledger.web
from syncledger.web.assets import ASSETS, MEDIA_TYPES, asset_url
from syncledger.web.pages import COLUMNS

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(syncledger.web.__file__).parent
STATIC = PACKAGE / "static"


def test_every_static_file_is_served_and_declared_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["syncledger"]
    files = sorted(p.name for p in STATIC.iterdir() if p.is_file())
    assert files == sorted(MEDIA_TYPES)
    for name in files:
        inside = f"web/static/{name}"
        assert any(fnmatch.fnmatch(inside, glob) for glob in globs), inside
        assert ASSETS[name].body == (STATIC / name).read_bytes()
        assert asset_url(name) == f"/static/{name}?v={ASSETS[name].digest}"


def test_the_stylesheet_hides_each_hideable_column() -> None:
    css = ASSETS["app.css"].body.decode()
    for column in COLUMNS:
        rule = f'.hide-{column.key} [data-col="{column.key}"] {{ display: none; }}'
        assert (rule in css) == column.hideable, column.key
