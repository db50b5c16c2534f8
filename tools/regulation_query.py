"""What a regulation search asks for: its mode and filters (plain data, no vector-store client needed)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel


class SearchMode(StrEnum):
    DENSE = "dense"
    SPARSE = "sparse"
    HYBRID = "hybrid"


class RegulationFilter(BaseModel):
    """Narrows a search: to some regulations (short names), to a scenario, to texts in force on a date."""

    regulations: list[str] | None = None
    scenario: str | None = None
    effective_on: date | None = None
