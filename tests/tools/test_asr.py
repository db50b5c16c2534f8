"""ASR on speech synthesised here (espeak-ng + sox, installed by the Makefile): a stereo call with one party per
channel and a long unannounced silence; plus the bad recordings a batch must survive."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from core.models import Role
from tools.asr import (
    AudioError,
    Segment,
    Transcriber,
    assemble_whisper_model,
    infer_mono_roles,
    load_channels,
    recording_to_conversation,
)


@pytest.fixture(scope="session")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return Transcriber(assemble_whisper_model(tmp_path_factory.mktemp("models")), language="en", device="cpu")


def test_packaged_model_assembles_with_the_full_vocabulary(tmp_path: Path) -> None:
    folder = assemble_whisper_model(tmp_path)
    vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
    assert len(vocabulary) == 51865 and vocabulary[50257] == "<|endoftext|>" and vocabulary[-1] == "<|30.00|>"
    assert assemble_whisper_model(tmp_path) == folder  # the second call reuses it


def test_stereo_call_is_split_by_channel_with_times_and_metrics(
    recordings: dict[str, Path], transcriber: Transcriber
) -> None:
    conversation = recording_to_conversation(recordings["call"], transcriber)
    roles = [t.role for t in conversation.turns]
    assert roles == [Role.AGENT, Role.CUSTOMER, Role.AGENT]
    text = " ".join(t.text.lower() for t in conversation.turns)
    for phrase in ("customer service", "credit card", "800"):
        assert phrase in text
    starts = [t.start for t in conversation.turns]
    assert starts == sorted(starts) and conversation.turns[2].start - conversation.turns[1].end > 20
    assert "stereo channels (agent = left" in conversation.notes[0]
    voice = conversation.voice
    assert voice is not None and voice.longest_silence_s > 20 and voice.talk_s[Role.AGENT] > voice.talk_s[Role.CUSTOMER]
    assert all(db is not None and -60 < db < 0 for db in voice.loudness_dbfs)
    swapped = recording_to_conversation(recordings["call"], transcriber, agent_channel="right")
    assert [t.role for t in swapped.turns] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER]


def test_mono_roles_are_inferred_and_said_to_be(recordings: dict[str, Path], transcriber: Transcriber) -> None:
    conversation = recording_to_conversation(recordings["mono"], transcriber)
    assert conversation.turns[0].role is Role.AGENT and "mono recording: roles inferred" in conversation.notes[0]
    segments = [
        Segment(0, 1, "喂？", Role.AGENT),
        Segment(2, 4, "您好，安和银行客服中心", Role.AGENT),
        Segment(5, 6, "我查账单", Role.AGENT),
    ]
    labelled, confidence = infer_mono_roles(segments)
    assert [s.role for s in labelled] == [Role.CUSTOMER, Role.AGENT, Role.CUSTOMER] and confidence == 0.6


@pytest.mark.parametrize(
    ("name", "message"),
    [("silent", "silent"), ("corrupt", "cannot decode"), ("empty", "empty or missing")],
)
def test_bad_recordings_get_a_clear_error(recordings: dict[str, Path], name: str, message: str) -> None:
    with pytest.raises(AudioError, match=message):
        load_channels(recordings[name], max_seconds=600)


def test_too_long_and_unsupported(recordings: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="over the limit"):
        load_channels(recordings["call"], max_seconds=5)
    other = tmp_path / "call.aac"
    other.write_bytes(b"x")
    with pytest.raises(AudioError, match="unsupported audio type"):
        load_channels(other, max_seconds=600)


def test_evaluate_a_recording_end_to_end(recordings: dict[str, Path], tmp_path: Path) -> None:
    env = {"ZHIJIAN_ASR_LANGUAGE": "en", "ZHIJIAN_DATA_DIR": str(tmp_path)}
    result = CliRunner().invoke(
        app,
        [
            "evaluate",
            str(recordings["call"]),
            str(recordings["corrupt"]),
            "--format",
            "json",
            "--no-citations",
            "--dry-run",
        ],
        env=env,
    )
    assert result.exit_code == 1 and "corrupt.wav: cannot decode" in result.stderr  # the batch goes on
    [evaluation] = [json.loads(line) for line in result.stdout.splitlines()]
    silence = next(f for f in evaluation["findings"] if f["rule_id"] == "SV-SILENCE")
    assert silence["verdict"] == "fail" and silence["code"] == "S05"
    assert silence["evidence"][0]["start"] is not None and silence["evidence"][-1]["start"] > 20
    transcript = CliRunner().invoke(app, ["transcribe", str(recordings["call"]), "--language", "en"], env=env)
    assert transcript.exit_code == 0 and "坐席" in transcript.stdout and "longest" in transcript.stdout
