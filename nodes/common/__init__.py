"""What every layer shares: the parameter table, the settings, the API key, errors, key redaction and where
files live."""
