"""What every layer shares: the parameter table, the settings, errors, key redaction and where files live."""
