"""Audio for the emulated streaming DUT: a WAV file becomes the raw image the
firmware's emulated audio source reads through ARM semihosting."""

from __future__ import annotations

import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinygen.errors import TinygenError

SAMPLE_RATE = 16_000
HOP = 512


@dataclass(frozen=True)
class AudioImage:
    path: Path
    samples: int

    @property
    def hops(self) -> int:
        return self.samples // HOP


def read_wav_left(path: Path | str) -> np.ndarray:
    """The left channel (channel 0) of a 16 kHz, 16-bit PCM WAV, as int16."""
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate = w.getnchannels(), w.getsampwidth(), w.getframerate()
            data = w.readframes(w.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise TinygenError(f"cannot read {path} as a WAV file ({exc}); sww streams are "
                           "16 kHz 16-bit PCM WAV files") from exc
    if width != 2 or rate != SAMPLE_RATE:
        raise TinygenError(f"{path} is {rate} Hz, {8 * width}-bit; sww needs 16000 Hz 16-bit PCM")
    return np.frombuffer(data, dtype="<i2").reshape(-1, channels)[:, 0].copy()


def write_audio_image(wav: Path | str | np.ndarray, image_path: Path | str) -> AudioImage:
    """Raw little-endian int16 mono (the WAV's left channel) for the emulated source."""
    samples = wav if isinstance(wav, np.ndarray) else read_wav_left(wav)
    image_path = Path(image_path)
    image_path.parent.mkdir(parents=True, exist_ok=True)
    image_path.write_bytes(np.asarray(samples, dtype="<i2").tobytes())
    return AudioImage(image_path.resolve(), int(samples.size))


def qemu_audio_args(image_path: Path | str) -> list[str]:
    """QEMU options that hand the image to the guest (semihosting, its one argument)."""
    path = str(Path(image_path).resolve())
    if "," in path or " " in path:
        raise TinygenError(f"the audio image path {path} contains a comma or space, which "
                           "QEMU's option syntax cannot pass; use a plain folder name")
    return ["-semihosting-config", f"enable=on,target=native,arg={path}"]


def write_wav(path: Path | str, samples: np.ndarray, channels: int = 2) -> Path:
    """A 16 kHz 16-bit WAV of int16 samples (copied to every channel), like the official streams."""
    path = Path(path)
    data = np.repeat(np.asarray(samples, dtype="<i2")[:, None], channels, axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(data.tobytes())
    return path
