"""Tables of practice sessions (coach agent)."""
