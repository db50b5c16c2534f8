"""Domain models, settings, persistence: the inner ring; imports nothing else of the project."""
