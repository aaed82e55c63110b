"""tinygen sww-stream: build a streaming wakeword test stream (WAV + official JSON)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinygen.runner.sww_stream import StreamSpec, build_stream

DESCRIPTION = """\
Build a streaming wakeword (sww01) test stream from wakeword clips: a long
16 kHz 16-bit WAV with the words at seeded, known times over generated
background noise (or a --background WAV looped under them), and beside it
the official-layout JSON ([{wav_file, sample_rate, length_sec,
detection_windows: [[t0, t1], ...]}]) that 'tinygen run --bench sww
--dataset DIR' reads. A word's window is where its clip is audible (20 ms
blocks above 10 % of the clip's peak); words are far enough apart that no
scoring span (t1 + 2 s) reaches the next one. The same options give the
same bytes.

The official scored stream (sww_long_test.json) has 50 words in 1200 s; a
run is valid for submission only over 50 words.

examples:
  tinygen sww-stream --clip ../shared/reference-models/sww01_marvin_617de221_0.wav \\
      --words 50 --out datasets/sww01 --name sww_long_test --length 1200
  tinygen sww-stream --clip marvin.wav --words 10 --out datasets/sww01 --name ten_words
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sww-stream", help="build a streaming wakeword test stream (WAV + JSON)",
                       description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clip", type=Path, action="append", required=True, metavar="WAV",
                   help="a 16 kHz 16-bit WAV holding the wakeword (repeat for several; used in "
                        "turn; the left channel of a stereo file)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="folder to write NAME.wav and NAME.json into (e.g. datasets/sww01)")
    p.add_argument("--name", default="sww_stream", help="file name stem (default sww_stream)")
    p.add_argument("--words", type=int, default=50, help="number of words (default 50)")
    p.add_argument("--length", type=float, default=None, metavar="S",
                   help="stream length in seconds (default: just long enough for the words)")
    p.add_argument("--mean-gap", type=float, default=6.0, metavar="S",
                   help="mean start-to-start distance of words (default 6)")
    p.add_argument("--noise-dbfs", type=float, default=-45.0, metavar="DB",
                   help="background noise RMS in dB full scale (default -45)")
    p.add_argument("--background", type=Path, metavar="WAV",
                   help="a 16 kHz WAV looped as the background instead of generated noise")
    p.add_argument("--channels", type=int, choices=(1, 2), default=2,
                   help="channels of the output WAV (default 2, as the interface board plays)")
    p.add_argument("--seed", type=int, default=0, help="seed of times, gains and noise (default 0)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    spec = StreamSpec(words=args.words, length_s=args.length, mean_gap_s=args.mean_gap,
                      noise_dbfs=args.noise_dbfs, channels=args.channels, seed=args.seed)
    stream = build_stream(args.clip, args.out, args.name, spec, args.background)
    print(f"{stream.wav}: {stream.length_s:g} s, {len(stream.windows)} words "
          f"(first at {stream.windows[0][0]:.2f} s, last at {stream.windows[-1][0]:.2f} s)")
    print(f"{stream.json}: detection windows (official layout)")
    return 0
