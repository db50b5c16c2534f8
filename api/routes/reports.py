"""HTTP routes of the reports feature (filled in by the reports work; registered in api/app.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["reports"])
