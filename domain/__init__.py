"""The pure model: OpenSolar changes, the document, organisation and customer aggregates and
their events, Xero payload mapping, and the SyncLedger application service. It imports none of
the other packages and no I/O library."""
