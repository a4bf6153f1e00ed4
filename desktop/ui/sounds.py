"""Short sound cues (right, wrong, tick, win) where Qt Multimedia is installed; silence where it is not.

PySide6-Essentials, the game's dependency, has no QtMultimedia: it comes with PySide6-Addons. The cues are
synthesised once into small WAV files, so the game ships no audio assets.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import struct
import tempfile
import wave
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl

RATE = 22_050
# name -> (frequencies in Hz played one after another, seconds each, volume 0..1)
CUES: dict[str, tuple[tuple[float, ...], float, float]] = {
    "right": ((660.0, 990.0), 0.07, 0.35),
    "wrong": ((220.0, 165.0), 0.09, 0.35),
    "tick": ((1200.0,), 0.025, 0.2),
    "win": ((523.0, 659.0, 784.0, 1047.0), 0.08, 0.35),
}
UNAVAILABLE = "Sounds need Qt Multimedia, which this installation lacks (pip install PySide6-Addons)."


def has_multimedia() -> bool:
    return importlib.util.find_spec("PySide6.QtMultimedia") is not None


def write_cue(path: Path, freqs: tuple[float, ...], seconds: float, volume: float) -> None:
    """A WAV of sine notes with a short fade at both ends (no click)."""
    frames = bytearray()
    n = int(RATE * seconds)
    fade = max(1, n // 8)
    for freq in freqs:
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            sample = volume * envelope * math.sin(2 * math.pi * freq * i / RATE)
            frames += struct.pack("<h", int(sample * 32767))
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(bytes(frames))


class Sounds:
    """Plays the cues unless muted; `available` is False (and play() does nothing) without Qt Multimedia."""

    def __init__(self, *, muted: bool = False) -> None:
        self.muted = muted
        self._effects: dict[str, Any] = {}
        self.available = has_multimedia()
        if self.available:
            self._load()

    def _load(self) -> None:
        multimedia = importlib.import_module("PySide6.QtMultimedia")  # lazy: an optional Qt module

        folder = Path(tempfile.mkdtemp(prefix="eyevsai-sounds-"))
        for name, (freqs, seconds, volume) in CUES.items():
            path = folder / f"{name}.wav"
            write_cue(path, freqs, seconds, volume)
            effect = multimedia.QSoundEffect()
            effect.setSource(QUrl.fromLocalFile(str(path)))
            self._effects[name] = effect

    def play(self, name: str) -> None:
        effect = self._effects.get(name)
        if effect is not None and not self.muted:
            effect.play()
