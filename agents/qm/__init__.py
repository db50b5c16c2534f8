"""The QM agent: small models first, the large model only where it pays."""
