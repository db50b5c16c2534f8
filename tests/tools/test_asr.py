"""ASR on speech synthesised here (espeak-ng + sox, installed by the Makefile): a stereo call with one party per
channel and a long unannounced silence; plus the bad recordings a batch must survive."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app
from core.models import Role
from tools.asr import (
    AudioError,
    DecodeBusy,
    Segment,
    Transcriber,
    assemble_whisper_model,
    infer_mono_roles,
    load_channels,
    recording_to_conversation,
)
from tools.voice import transcript_quality


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


# --- issue 11 rows 9 and 10: the ASR quality gate, the decode cap and the decode slots -------------------------

MANDARIN = (
    "您好，这里是安和银行客服中心，请问有什么可以帮您？我想查询一下我的信用卡账单。好的，请您提供一下身份证号码。"
)
REAL_CLIP = Path("/work/shared/external/mandarin_asr_clips/audio/aishell1_BAC009S0724W0121.wav")


@pytest.fixture(scope="session")
def mandarin_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Transcriber:
    return Transcriber(assemble_whisper_model(tmp_path_factory.mktemp("models-zh")), language="zh", device="cpu")


@pytest.fixture(scope="session")
def espeak_mandarin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """espeak-ng reads Mandarin as pinyin with tone numbers: Whisper hears digits and Latin fragments."""
    folder = tmp_path_factory.mktemp("espeak-zh")
    raw, path = folder / "raw.wav", folder / "espeak_zh.wav"
    subprocess.run(["espeak-ng", "-v", "cmn", "-w", str(raw), MANDARIN], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(path)], check=True)
    return path


def test_unintelligible_mandarin_is_not_judgeable(espeak_mandarin: Path, mandarin_transcriber: Transcriber) -> None:
    conversation = recording_to_conversation(espeak_mandarin, mandarin_transcriber)
    quality = conversation.transcript_quality
    assert quality is not None and quality.judgeable is False and quality.reason
    assert quality.avg_logprob is not None and quality.no_speech_prob is not None
    assert any("ASR quality gate" in note for note in conversation.notes)


def test_clean_speech_stays_judgeable(recordings: dict[str, Path], transcriber: Transcriber) -> None:
    quality = recording_to_conversation(recordings["call"], transcriber).transcript_quality
    assert quality is not None and quality.judgeable is True and quality.reason is None
    assert quality.avg_logprob is not None and quality.avg_logprob > -1.0


@pytest.mark.skipif(not REAL_CLIP.exists(), reason="the real Mandarin clips in ../shared/external are absent")
def test_a_real_mandarin_clip_stays_judgeable(mandarin_transcriber: Transcriber) -> None:
    quality = recording_to_conversation(REAL_CLIP, mandarin_transcriber).transcript_quality
    assert quality is not None and quality.judgeable is True, quality


@pytest.mark.parametrize(
    ("texts", "stats", "judgeable", "reason"),
    [
        (["1-2-3-1-2-2-3-1-2-3"], (0.1, -0.3, 1.5), False, "mostly digits"),
        (["鸦rorf3,鸦rorf3,鸦rorf1", "鸡4,鸡4"], (0.2, -0.5, 1.8), False, "mostly Latin"),
        (["您好，请问有什么可以帮您？"], (0.1, -1.4, 1.1), False, "log-probability"),
        (["好的"] * 3, (0.8, -0.3, 1.0), False, "no speech"),
        (["对对对对对对对对对对对对对对对对对对对对"], (0.1, -0.3, 3.1), False, "compression"),
        (["您好，这里是安和银行，您的卡号尾号1234的账单是800元。"], (0.05, -0.35, 1.2), True, None),
    ],
)
def test_quality_gate_thresholds(
    texts: list[str], stats: tuple[float, float, float], judgeable: bool, reason: str | None
) -> None:
    spans = [Segment(i * 3.0, i * 3.0 + 2.5, t, Role.AGENT, *stats) for i, t in enumerate(texts)]
    quality = transcript_quality(spans, language="zh")
    assert quality.judgeable is judgeable
    if reason is not None:
        assert quality.reason is not None and reason in quality.reason


def test_a_header_that_understates_the_length_does_not_get_past_the_cap(tmp_path: Path) -> None:
    """A chained Ogg: its header gives the last link's 5 s, the stream holds 45 s. Decoding stops at the cap."""
    first, second, chained = tmp_path / "a.ogg", tmp_path / "b.ogg", tmp_path / "chained.ogg"
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(first), "synth", "40", "sine", "300"], check=True)
    subprocess.run(["sox", "-n", "-r", "16000", "-c", "1", str(second), "synth", "5", "sine", "440"], check=True)
    chained.write_bytes(first.read_bytes() + second.read_bytes())
    with pytest.raises(AudioError, match="decoding stopped"):
        load_channels(chained, max_seconds=20)
    [audio] = load_channels(chained, max_seconds=100)
    assert 44 < audio.size / 16000 < 46


def test_decode_errors_never_carry_the_server_path(tmp_path: Path) -> None:
    folder = tmp_path / "secret-temp-folder"
    folder.mkdir()
    broken = folder / "a\\b.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64))
    with pytest.raises(AudioError) as caught:
        load_channels(broken, max_seconds=60)
    assert str(caught.value).count("secret-temp-folder") == 1  # only the source prefix, which callers replace
    assert "secret-temp-folder" not in str(caught.value).removeprefix(str(broken))


def test_busy_decode_slots_answer_503_with_retry_after(
    recordings: dict[str, Path], transcriber: Transcriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transcriber, "wait_s", 0.2)
    with contextlib.ExitStack() as held:
        for _ in range(transcriber.max_decodes):
            held.enter_context(transcriber.decode_slot())
        with pytest.raises(DecodeBusy) as caught:
            recording_to_conversation(recordings["call"], transcriber)
        assert caught.value.retry_after > 0
    assert recording_to_conversation(recordings["mono"], transcriber).turns  # slots are released again


def test_a_long_silent_recording_is_refused_without_holding_its_samples(tmp_path: Path) -> None:
    """40 minutes of silence (what a 3-hour attack file is, shorter): decoded at 16 kHz it would be 150 MB of
    float32; the peak memory of the process refusing it stays far below that (measured in a fresh process)."""
    silent = tmp_path / "long.ogg"
    subprocess.run(["sox", "-n", "-r", "8000", "-c", "1", str(silent), "trim", "0", "2400"], check=True)
    probe = (
        "import resource, sys\n"
        "from pathlib import Path\n"
        "from tools.asr import AudioError, load_channels\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "try:\n"
        f"    load_channels(Path({str(silent)!r}), max_seconds=3 * 3600)\n"
        "except AudioError as exc:\n"
        "    print(str(exc).rsplit(': ', 1)[-1])\n"
        "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)\n"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=root)
    message, grown_mb = result.stdout.splitlines()
    assert message == "the recording is silent"
    assert int(grown_mb) < 50, f"peak memory grew by {grown_mb} MB"
