"""``python -m syncledger.web``: the ``syncledger`` command with ``serve``, ``users`` and
``webhook`` attached, for as long as the main CLI does not attach them itself."""

from __future__ import annotations

from syncledger.cli import main
from syncledger.web.cli import attach

attach(main)

if __name__ == "__main__":
    main(prog_name="syncledger")
