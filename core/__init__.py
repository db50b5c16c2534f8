"""Domain models, settings, persistence: the inner ring; imports nothing else of the project.

Importing the package registers every table module with the declarative base, so a `Store` always
creates the whole schema (and no module has to import the others lazily)."""

from core import accounts, coaching, jobs, scorecards  # noqa: F401  (their tables are part of the schema)
