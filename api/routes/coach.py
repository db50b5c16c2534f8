"""HTTP routes of the coach feature (filled in by the coach work; registered in api/app.py)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["coach"])
