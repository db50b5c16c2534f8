"""Audio uploads (issue 11 row 10): when every decode slot of the process is busy, a recording upload waits briefly
and then gets 503 problem+json with Retry-After, instead of piling decodes into memory."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest

from tests.api.conftest import Api
from tools.asr import Transcriber, assemble_whisper_model


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return Transcriber(assemble_whisper_model(tmp_path_factory.mktemp("models")), language="en", device="cpu")


def test_busy_decode_slots_are_a_503_with_retry_after(
    api: Api, transcriber: Transcriber, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "hello.wav"
    raw = tmp_path / "raw.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(raw), "Hello, this is the bank."], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(clip)], check=True)
    service = api.client.app.state.service  # type: ignore[attr-defined]
    monkeypatch.setattr(service, "_transcriber", transcriber)  # the process's one transcriber, already loaded
    monkeypatch.setattr(transcriber, "wait_s", 0.2)
    with contextlib.ExitStack() as held:
        for _ in range(transcriber.max_decodes):
            held.enter_context(transcriber.decode_slot())
        response = api.client.post(
            "/evaluate/recording?dry_run=true",
            files={"recording": ("hello.wav", clip.read_bytes(), "audio/wav")},
            headers=api.headers("qa_sh"),
        )
    assert response.status_code == 503 and response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["Retry-After"]) > 0 and "decode slots are busy" in response.json()["detail"]
    again = api.client.post(
        "/evaluate/recording?dry_run=true",
        files={"recording": ("hello.wav", clip.read_bytes(), "audio/wav")},
        data={"branch": "上海分行", "agent_id": "A101"},
        headers=api.headers("qa_sh"),
    )
    assert again.status_code == 200, again.text
