"""Timing and voice metrics of a transcribed recording (talk time, silences, overtalk, speech rate, loudness), and
the ASR quality gate: whether the recogniser's own signals allow the transcript to be judged at all."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from core.models import Conversation, Role, TranscriptQuality, VoiceMetrics

# Whisper's own decoding thresholds (faster-whisper defaults): below / above them a window is unreliable.
MIN_AVG_LOGPROB = -1.0
MAX_COMPRESSION_RATIO = 2.4
NO_SPEECH_PROB = 0.6
_CJK = re.compile(r"[\u4e00-\u9fff]")
_DIGIT = re.compile(r"[0-9０-９]")
_LATIN = re.compile(r"[A-Za-z]")
_TOKEN_SPLIT = re.compile(r"[\s,，。、.!！?？;；:：\-–—]+")


class RecognisedSpan(Protocol):
    """A recognised segment with the recogniser's confidence signals (tools.asr.Segment is one)."""

    @property
    def start(self) -> float: ...
    @property
    def end(self) -> float: ...
    @property
    def text(self) -> str: ...
    @property
    def no_speech_prob(self) -> float | None: ...
    @property
    def avg_logprob(self) -> float | None: ...
    @property
    def compression_ratio(self) -> float | None: ...


SAMPLE_RATE = 16000


def _units(text: str) -> int:
    """Characters for Chinese, words otherwise (speech rate is per minute of these)."""
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return cjk if cjk else len(text.split())


def voice_metrics(conversation: Conversation, channels: list[np.ndarray], agent_channel: int | None) -> VoiceMetrics:
    """Metrics from turn times and the waveform; `agent_channel` is None for mono recordings."""
    turns = [t for t in conversation.turns if t.timed]
    duration = max(len(c) for c in channels) / SAMPLE_RATE
    talk = {role: 0.0 for role in (Role.AGENT, Role.CUSTOMER)}
    units = {role: 0 for role in talk}
    for t in turns:
        if t.role in talk:
            talk[t.role] += (t.end or 0) - (t.start or 0)
            units[t.role] += _units(t.text)
    ordered = sorted(turns, key=lambda t: t.start or 0)
    gaps, overlap, reach = [], 0.0, 0.0
    for t in ordered:
        start, end = t.start or 0, t.end or 0
        if start > reach:
            gaps.append(start - reach)
        else:
            overlap += min(end, reach) - start
        reach = max(reach, end)
    if duration > reach:
        gaps.append(duration - reach)
    loudness: list[float | None] = []
    for t in conversation.turns:
        if not t.timed:
            loudness.append(None)
            continue
        channel = (
            channels[0]
            if agent_channel is None
            else channels[agent_channel if t.role is Role.AGENT else 1 - agent_channel]
        )
        window = channel[int((t.start or 0) * SAMPLE_RATE) : int((t.end or 0) * SAMPLE_RATE)]
        rms = float(np.sqrt(np.mean(np.square(window)))) if window.size else 0.0
        loudness.append(round(20 * math.log10(rms), 1) if rms > 0 else None)
    return VoiceMetrics(
        duration_s=round(duration, 2),
        talk_s={r: round(v, 2) for r, v in talk.items()},
        talk_listen_ratio=round(talk[Role.AGENT] / talk[Role.CUSTOMER], 2) if talk[Role.CUSTOMER] else None,
        silence_s=round(sum(gaps), 2),
        longest_silence_s=round(max(gaps, default=0.0), 2),
        overtalk_s=round(overlap, 2),
        speech_rate_cpm={r: round(units[r] / (talk[r] / 60), 1) if talk[r] else 0.0 for r in talk},
        loudness_dbfs=loudness,
    )


def _weighted(values: list[tuple[float, float]]) -> float | None:
    total = sum(w for _, w in values)
    if not values:
        return None
    if total <= 0:
        return sum(v for v, _ in values) / len(values)
    return sum(v * w for v, w in values) / total


def transcript_quality(spans: Sequence[RecognisedSpan], *, language: str | None) -> TranscriptQuality:
    """Whether a transcript can be judged, from per-segment no-speech probability, average log-probability and
    compression ratio (duration-weighted), plus what the text looks like: recognisers fed unintelligible audio
    produce digits ("1-2-3-1-2-2…"), Latin fragments in a Chinese call, or the same token over and over."""
    weighted = [(s, max(s.end - s.start, 0.01)) for s in spans]
    logprob = _weighted([(s.avg_logprob, w) for s, w in weighted if s.avg_logprob is not None])
    no_speech = _weighted([(s.no_speech_prob, w) for s, w in weighted if s.no_speech_prob is not None])
    compression = _weighted([(s.compression_ratio, float(len(s.text))) for s, _ in weighted if s.compression_ratio])
    reasons = []
    if logprob is not None and logprob < MIN_AVG_LOGPROB:
        reasons.append(f"low recognition confidence (mean log-probability {logprob:.2f} < {MIN_AVG_LOGPROB})")
    if compression is not None and compression > MAX_COMPRESSION_RATIO:
        reasons.append(f"repetitive output (compression ratio {compression:.2f} > {MAX_COMPRESSION_RATIO})")
    flagged = [s for s in spans if s.no_speech_prob is not None and s.no_speech_prob > NO_SPEECH_PROB]
    if spans and len(flagged) * 2 > len(spans):
        reasons.append(f"no speech likely in {len(flagged)} of {len(spans)} segments")
    reasons += _text_problems(" ".join(s.text for s in spans), language=language)
    return TranscriptQuality(
        judgeable=not reasons,
        reason="; ".join(reasons) or None,
        no_speech_prob=None if no_speech is None else round(no_speech, 3),
        avg_logprob=None if logprob is None else round(logprob, 3),
        compression_ratio=None if compression is None else round(compression, 2),
    )


def _text_problems(text: str, *, language: str | None) -> list[str]:
    chars = [ch for ch in text if ch.isalnum()]
    if not chars:
        return ["no words recognised"]
    problems = []
    digits = sum(1 for ch in chars if _DIGIT.match(ch)) / len(chars)
    if digits > 0.5:
        problems.append(f"mostly digits ({digits:.0%} of the characters)")
    if (language or "zh").startswith("zh"):
        cjk = sum(1 for ch in chars if _CJK.match(ch)) / len(chars)
        latin = sum(1 for ch in chars if _LATIN.match(ch)) / len(chars)
        if cjk < 0.5 and latin + digits > 0.5 and digits <= 0.5:
            problems.append(f"a Mandarin call recognised as mostly Latin letters and digits ({cjk:.0%} Chinese)")
    tokens = [t for t in _TOKEN_SPLIT.split(text) if t]
    if len(tokens) >= 8 and len(set(tokens)) / len(tokens) < 0.3:
        problems.append(f"the same {len(set(tokens))} tokens repeated {len(tokens)} times")
    return problems
