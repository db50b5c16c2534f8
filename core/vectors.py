"""The Qdrant client: embedded (local folder) by default, a server when QDRANT_URL is set."""

from __future__ import annotations

import fcntl
from pathlib import Path

from qdrant_client import QdrantClient

from core.errors import ZhijianError
from core.settings import Settings


class VectorStoreBusy(ZhijianError):
    """The embedded vector store's folder is open in another process (embedded Qdrant allows only one)."""


def held_elsewhere(folder: Path) -> bool:
    """Whether another process holds the embedded store's lock (the same flock the Qdrant client takes)."""
    lock = folder / ".lock"
    if not lock.exists():
        return False
    with lock.open("r+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False


def open_qdrant(settings: Settings) -> QdrantClient:
    """One client per process: embedded mode locks its folder, so pass this client around.

    Raises VectorStoreBusy when another process holds the embedded folder (checked before the client starts,
    which would otherwise load the collection and leave files open)."""
    if settings.qdrant_url:
        return QdrantClient(url=settings.qdrant_url, api_key=settings.qdrant_api_key)
    path = settings.resolved_qdrant_path
    path.mkdir(parents=True, exist_ok=True)
    if held_elsewhere(path):
        raise VectorStoreBusy(f"{path} is in use by another process")
    return QdrantClient(path=str(path))
