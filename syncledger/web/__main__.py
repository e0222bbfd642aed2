"""``python -m syncledger.web``: the ``syncledger`` command, which carries ``serve``, ``users``
and ``webhook`` itself."""

from __future__ import annotations

from syncledger.cli import main

if __name__ == "__main__":
    main(prog_name="syncledger")
