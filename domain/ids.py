"""Stable identities: aggregate ids derived from OpenSolar's own ids, so the same change maps to
the same aggregate in every process and every replay."""

from __future__ import annotations

from uuid import UUID, uuid5

NAMESPACE = UUID("6f4b1c9e-3f5a-5d7e-9a51-0c1b2d3e4f50")


def organisation_id(org: str) -> UUID:
    """The aggregate id of an OpenSolar organisation."""
    return uuid5(NAMESPACE, f"org/{org}")


def document_id(org: str, kind: str, opensolar_id: str) -> UUID:
    """The aggregate id of an OpenSolar document (``kind`` is ``invoice`` or ``payment``)."""
    return uuid5(NAMESPACE, f"org/{org}/{kind}/{opensolar_id}")


def customer_id(org: str, customer_key: str) -> UUID:
    """The aggregate id of an OpenSolar customer within an organisation."""
    return uuid5(NAMESPACE, f"org/{org}/customer/{customer_key}")
