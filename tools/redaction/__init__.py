"""PII detection and replacement: numbers (written and spoken), e-mail, names and addresses.

The public entry points are re-exported by ``tools.redact`` (``redact_conversation``, ``redact_text``, ``PiiVault``).
"""
