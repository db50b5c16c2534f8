"""Domain models, settings, persistence: the inner ring; imports nothing else of the project.

Importing the package imports nothing (a CLI that only reads and prints conversations needs no database library);
`core.store.Store` registers every table module with the declarative base when a store is opened, so a store always
creates the whole schema."""
