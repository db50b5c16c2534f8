"""ASR speed and accuracy: real-time factor (int8, 2 threads) and word error rate against reference text.

Speech is synthesised here with espeak-ng (English; its Mandarin voice reads pinyin with tone numbers, so
synthetic Mandarin says nothing about Mandarin ASR). ../shared/data has no recorded speech yet.
Usage: python benchmarks/asr.py
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from pathlib import Path

from rapidfuzz.distance import Levenshtein

from core.models import Role
from core.settings import Settings
from graphs.wiring import build_transcriber
from tools.asr import load_channels

SENTENCES = [
    "Good morning, this is the customer service centre of the bank. How may I help you today?",
    "I would like to know why my card was declined at the supermarket yesterday evening.",
    "For your security, please tell me the last four digits of your identity card.",
    "This wealth management product is not a deposit and the principal is not guaranteed.",
    "The annual interest rate of this loan is seven point three percent, repaid in equal instalments.",
    "I am sorry for the inconvenience. I will submit a ticket and call you back within three working days.",
    "You have a fifteen day cooling off period during which you can cancel the policy for a full refund.",
    "Thank you for waiting. The transfer was returned because the name of the payee did not match.",
]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("%", " percent"))


def main() -> None:
    settings = Settings(asr_language="en", asr_device="cpu")
    started = time.perf_counter()
    transcriber = build_transcriber(settings)
    print(f"model ready in {time.perf_counter() - started:.1f} s (assembled once, then loaded)")
    errors = total = 0
    audio_s = compute_s = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for n, sentence in enumerate(SENTENCES):
            raw, wav = Path(tmp) / f"{n}.raw.wav", Path(tmp) / f"{n}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), sentence], check=True)
            subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True)
            [audio] = load_channels(wav, max_seconds=600)
            t0 = time.perf_counter()
            hypothesis = " ".join(s.text for s in transcriber.segments(audio, role=Role.AGENT))
            compute_s += time.perf_counter() - t0
            audio_s += len(audio) / 16000
            ref, hyp = words(sentence), words(hypothesis)
            errors += Levenshtein.distance(ref, hyp)
            total += len(ref)
    print(
        f"{len(SENTENCES)} clips, {audio_s:.1f} s of speech: RTF {compute_s / audio_s:.3f} (int8, 2 threads, CPU); "
        f"WER {errors / total:.3f} ({errors} errors / {total} words; numbers written as digits count as errors)"
    )


if __name__ == "__main__":
    main()
