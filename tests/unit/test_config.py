"""Settings from SYNCLEDGER_* variables: values read, bad values refused naming the variable."""

from __future__ import annotations

import pytest

from syncledger.config import Settings, SettingsError, load


def test_variables_become_settings_and_the_rest_keep_their_defaults():
    settings = load({"SYNCLEDGER_XERO_BATCH_SIZE": "1", "SYNCLEDGER_SQLITE_BUSY_TIMEOUT": "5"})

    assert (settings.xero_batch_size, settings.sqlite_busy_timeout) == (1, 5)
    assert settings.retry_max_attempts == Settings().retry_max_attempts


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SYNCLEDGER_XERO_BATCH_SIZE", "0", "between 1 and 50"),
        ("SYNCLEDGER_XERO_BATCH_SIZE", "51", "between 1 and 50"),
        ("SYNCLEDGER_SQLITE_BUSY_TIMEOUT", "soon", "not a valid int"),
        ("SYNCLEDGER_RETRY_BASE_SECONDS", "-1", "must not be negative"),
        ("SYNCLEDGER_LOG_FORMAT", "xml", "text or json"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(variable, value, message):
    with pytest.raises(SettingsError) as refused:
        load({variable: value})

    assert variable in str(refused.value) and message in str(refused.value)
