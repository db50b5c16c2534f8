"""The Qdrant client: embedded (local folder) by default, a server when QDRANT_URL is set."""

from __future__ import annotations

from qdrant_client import QdrantClient

from core.settings import Settings


def open_qdrant(settings: Settings) -> QdrantClient:
    """One client per process: embedded mode locks its folder, so pass this client around."""
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
    path = settings.resolved_qdrant_path
    path.mkdir(parents=True, exist_ok=True)
    return QdrantClient(path=str(path))
