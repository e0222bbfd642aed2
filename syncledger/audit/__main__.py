"""``python -m syncledger.audit``: the audit commands on their own, for use before (or without)
``syncledger audit``."""

from __future__ import annotations

from syncledger.cli.audit import audit_group

if __name__ == "__main__":
    audit_group(prog_name="python -m syncledger.audit")
