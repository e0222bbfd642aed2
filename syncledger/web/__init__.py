"""The web side of syncledger: ``syncledger serve`` runs an HTTP service (the OpenSolar change
endpoint, the Payment Requests page, health and metrics) beside the relay, in one process.

The package keeps its own tables (``web_users``, ``web_sessions``, ``web_webhook_secrets``),
written in portable SQL through the ``Database`` port, and reaches the ledger only through the
use cases in ``syncledger.service``.
"""
