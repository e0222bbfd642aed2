"""The page's static files (stylesheet, script, icon): package data in ``syncledger/web/static/``,
read once with ``importlib.resources`` and served from ``/static/`` under a content hash so
browsers may cache them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Asset:
    """A static file: its body, media type and content hash."""

    body: bytes
    media_type: str

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body).hexdigest()[:12]


MEDIA_TYPES: dict[str, str] = {
    "favicon.svg": "image/svg+xml",
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
}
"""Every file served, and its media type."""


def _read(name: str) -> bytes:
    return resources.files("syncledger.web").joinpath("static", name).read_bytes()


ASSETS: dict[str, Asset] = {name: Asset(_read(name), kind) for name, kind in MEDIA_TYPES.items()}


def asset_url(name: str) -> str:
    """The URL of a static file, with its content hash so a new version is fetched at once."""
    return f"/static/{name}?v={ASSETS[name].digest}"
