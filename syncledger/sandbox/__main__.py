"""`python -m syncledger.sandbox`: run the sandbox command without the main CLI."""

from __future__ import annotations

from syncledger.sandbox.cli import command

if __name__ == "__main__":
    command()
