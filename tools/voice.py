"""Timing and voice metrics of a transcribed recording: talk time, silences, overtalk, speech rate, loudness."""

from __future__ import annotations

import math

import numpy as np

from core.models import Conversation, Role, VoiceMetrics

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
