"""``syncledger audit``: questions about the ledger's history (events, Xero calls, failures,
statuses as of a moment, timings) and the reconciliation of the ledger with Xero."""
