"""The sww01 test data: ``<datasets>/sww01/*.json`` beside their WAV files.

Each JSON file is the official runner's description of one stream: a list
of ``{"wav_file", "sample_rate", "length_sec", "detection_windows":
[[t0, t1], ...]}`` (times in seconds). ``sww_long_test.json`` (1200 s, 50
words) is the scored run; the medium and short tests are for debugging.
``load_streams`` checks all of it before a run and names every problem.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from pathlib import Path

from tinygen.errors import TinygenError

LONG_TEST = "sww_long_test.json"
SAMPLE_RATE = 16_000
MAX_REPORTED = 5


@dataclass(frozen=True)
class StreamTest:
    json_path: Path
    wav_path: Path
    sample_rate: int
    length_sec: float
    windows: tuple[tuple[float, float], ...]

    @property
    def words(self) -> int:
        return len(self.windows)

    @property
    def is_long_test(self) -> bool:
        return self.json_path.name == LONG_TEST


def stream_folder(folder: Path | str) -> Path:
    """``folder/sww01`` if it exists, else ``folder`` itself, if it holds JSON files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise TinygenError(f"dataset folder {folder} does not exist; pass --dataset with the "
                           "folder holding sww01/*.json and their WAV files")
    for candidate in (folder / "sww01", folder):
        if candidate.is_dir() and any(candidate.glob("*.json")):
            return candidate
    raise TinygenError(f"no *.json stream descriptions in {folder} or {folder / 'sww01'}; the sww "
                       "dataset is the official runner's sww_data_dir (e.g. sww_long_test.json + WAVs)")


def _entry(json_path: Path, i: int, item, problems: list[str]) -> StreamTest | None:
    where = f"{json_path.name} entry {i}"
    if not isinstance(item, dict):
        problems.append(f"{where} is not an object")
        return None
    missing = [k for k in ("wav_file", "sample_rate", "length_sec", "detection_windows")
               if k not in item]
    if missing:
        problems.append(f"{where} lacks {', '.join(missing)}")
        return None
    wav = json_path.parent / str(item["wav_file"])
    try:
        windows = tuple((float(a), float(b)) for a, b in item["detection_windows"])
        rate, length = int(item["sample_rate"]), float(item["length_sec"])
    except (TypeError, ValueError):
        problems.append(f"{where}: detection_windows must be [[t0, t1], ...] and sample_rate, "
                        "length_sec numbers")
        return None
    if rate != SAMPLE_RATE:
        problems.append(f"{where}: sample_rate {rate}, sww needs {SAMPLE_RATE}")
    bad = [w for w in windows if not 0 <= w[0] <= w[1] <= length]
    if bad:
        problems.append(f"{where}: window {list(bad[0])} is not inside 0..{length:g} s")
    if not wav.is_file():
        problems.append(f"{where}: {wav.name} not found beside {json_path.name}")
        return None
    try:
        with wave.open(str(wav), "rb") as w:
            if w.getframerate() != SAMPLE_RATE or w.getsampwidth() != 2:
                problems.append(f"{wav.name} is {w.getframerate()} Hz {8 * w.getsampwidth()}-bit; "
                                "sww needs 16 kHz 16-bit PCM")
            seconds = w.getnframes() / max(1, w.getframerate())
    except (OSError, wave.Error, EOFError) as exc:
        problems.append(f"{wav.name} is not a readable WAV file ({exc})")
        return None
    if seconds + 0.5 < length:
        problems.append(f"{wav.name} lasts {seconds:.1f} s but {json_path.name} says {length:g} s")
    return StreamTest(json_path, wav, rate, length, windows)


def load_streams(folder: Path | str) -> list[StreamTest]:
    """Every stream described in the folder's JSON files, checked; one error lists the problems."""
    folder = stream_folder(folder)
    problems: list[str] = []
    tests: list[StreamTest] = []
    for json_path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"{json_path.name} is not readable JSON ({exc})")
            continue
        items = data if isinstance(data, list) else [data]
        for i, item in enumerate(items):
            entry = _entry(json_path, i, item, problems)
            if entry is not None:
                tests.append(entry)
    if problems:
        shown = problems[:MAX_REPORTED]
        more = len(problems) - len(shown)
        raise TinygenError(f"sww dataset {folder} has {len(problems)} problem"
                           f"{'s' if len(problems) > 1 else ''}: " + "; ".join(shown)
                           + (f"; and {more} more" if more > 0 else "")
                           + "; fix the JSON files or the WAVs (official layout: sww_data_dir)")
    return tests
