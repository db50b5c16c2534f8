"""HTTP routes of the insight feature (filled in by the insight work; registered in api/app.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["insight"])
