"""Contract tests of the Xero sandbox."""
