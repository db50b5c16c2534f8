"""LangGraph state machines: the QM flow and the supervisor that routes requests to agents."""
