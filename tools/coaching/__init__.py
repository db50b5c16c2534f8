"""Plain typed tools of the coach agent: weakness profiles, the customer-turn pool, model answers, progress."""
