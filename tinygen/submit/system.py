"""The system description JSON of a submission (``systems/<system>.json``).

The keys are those of the MLPerf Tiny results repositories' system files,
spelled exactly as there (including the trailing space of
``"Operating System "``); the checker reads ``Status`` (available, preview,
rdi) and reports ``Board Name``, ``Processor(s) Name``, frequencies,
memory, ``Inference Framework`` and ``Software Libraries``. tinygen fills
what it knows from the board file and the build manifests; ``--field``
sets the rest.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from tinygen import __version__
from tinygen.boards import Board
from tinygen.errors import TinygenError
from tinygen.port.manifest import BuildManifest

log = logging.getLogger(__name__)

STATUSES = ("available", "preview", "rdi")
DIVISIONS = ("closed", "open")

# In the order of the official files.
SYSTEM_KEYS = (
    "Submitter",
    "Division",
    "Status",
    "Board Name",
    "Board Memory capacity (not including SoC, processor, or accelerator)",
    "Board Memory type",
    "Board storage capacity",
    "Board storage type",
    "SoC Name",
    "SoC Memory capacity (not including processor or accelerator)",
    "SoC Memory type",
    "SoC storage capacity",
    "SoC storage type",
    "Processor(s) Name",
    "Processor(s) Frequencies",
    "Processor memory type and capacity",
    "Processor storage type and capacity",
    "Accelerator",
    "Accelerator(s) Frequencies",
    "Accelerator memory type and capacity",
    "Accelerator storage type and capacity",
    "Hardware Notes",
    "Inference Framework",
    "Software Libraries",
    "Operating System ",
    "Other Software Stack",
    "Software Notes",
    "Quantization Method",
    "Training framework (open division)",
    "ML Model Compiler(s)",
    "General Compiler(s)",
    "Other Software",
    "Training and Quantization Notes",
)

_STATUS_WORD = {"available": "Available", "preview": "Preview", "rdi": "RDI"}
_CPU_NAMES = {"cortex-m0": "Cortex-M0", "cortex-m0plus": "Cortex-M0+", "cortex-m3": "Cortex-M3",
              "cortex-m4": "Cortex-M4", "cortex-m7": "Cortex-M7", "cortex-m33": "Cortex-M33",
              "cortex-m55": "Cortex-M55", "cortex-m85": "Cortex-M85"}


def _size(n: int) -> str:
    if n and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)}MB"
    return f"{n // 1024}KB" if n % 1024 == 0 else f"{n}B"


def _processor(board: Board) -> str:
    if board.is_host:
        return "host CPU (native process)"
    extras = [x for x, on in (("DSP", board.dsp), ("FPU", board.fpu != "none")) if on]
    name = _CPU_NAMES.get(board.cpu, board.cpu)
    return f"32-bit Arm {name}" + (f" ({' + '.join(extras)})" if extras else "")


def _board_and_soc(board: Board) -> tuple[str, str]:
    """'NUCLEO-L4R5ZI (STM32L4R5ZI, Cortex-M4F, 120 MHz)' -> the board and the chip."""
    title = board.title or board.name
    name, _, rest = title.partition(" (")
    first = rest.rstrip(")").split(",")[0].strip()
    soc = "" if not first or first.startswith("Cortex") or "emulated" in first else first
    return name.strip() or board.name, soc


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


def system_description(board: Board, org: str, division: str, status: str,
                       manifests: list[BuildManifest],
                       fields: dict[str, str] | None = None,
                       notes: list[str] | None = None) -> dict[str, str]:
    """The system JSON as a dict in the official key order, no duplicate keys.

    ``fields`` override or add keys; a key equal to an official one up to
    case and spacing replaces it (so "Operating System" sets "Operating System ").
    """
    if status not in STATUSES:
        raise TinygenError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}")
    if division not in DIVISIONS:
        raise TinygenError(f"unknown division '{division}'; use closed or open")
    compilers = sorted({v for m in manifests for k, v in m.tools.items()
                        if k.endswith("gcc") or k == "cc"})
    flags = sorted({" ".join(m.cflags) for m in manifests})
    # The optimisation level the compiler was given: the cflags' own -O flag
    # (a host build turns the requested -O2 into -O3), else the requested one.
    opts = sorted({next((f[1:] for f in m.cflags if re.fullmatch(r"-O\w*", f)), m.opt)
                   for m in manifests if m.opt})
    ram, flash = board.ram_bytes, board.flash_bytes
    clock = f"{board.clock_hz / 1e6:g} MHz" if board.clock_hz else ""
    board_name, soc = _board_and_soc(board)
    system = {key: "" for key in SYSTEM_KEYS}
    system.update({
        "Submitter": org,
        "Division": division.capitalize(),
        "Status": _STATUS_WORD[status],
        "Board Name": board_name,
        "SoC Name": soc,
        "SoC Memory capacity (not including processor or accelerator)": _size(ram) if ram else "",
        "SoC Memory type": "RAM" if ram else "",
        "SoC storage capacity": _size(flash) if flash else "",
        "SoC storage type": "Flash" if flash else "",
        "Processor(s) Name": _processor(board),
        "Processor(s) Frequencies": clock,
        "Processor memory type and capacity": f"{_size(ram)} RAM" if ram else "",
        "Processor storage type and capacity": f"{_size(flash)} FLASH" if flash else "",
        "Hardware Notes": f"board file {board.name} ({board.vendor})",
        "Inference Framework": f"tinygen {__version__} (ahead-of-time compiled int8 engine)",
        "Software Libraries": "newlib-nano" if not board.is_host else "C library of the host",
        "Operating System ": "bare metal" if not board.is_host else "host operating system",
        "Software Notes": "; ".join(
            [f"optimisation -{'/-'.join(opts)}" if opts else ""]
            + [f"compiler flags: {f}" for f in flags] + list(notes or [])).strip("; "),
        "Quantization Method": "TensorFlow Lite int8 post-training quantization",
        "ML Model Compiler(s)": f"tinygen {__version__}",
        "General Compiler(s)": "; ".join(compilers),
    })
    by_key = {_key(k): k for k in system}
    for key, value in (fields or {}).items():
        official = by_key.get(_key(key))
        if official is None:
            log.warning("system field '%s' is not one of the official keys; added as given", key)
            official = key
            by_key[_key(key)] = key
        system[official] = value
    return system


def _refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def load_strict(text: str) -> Any:
    """json.loads that refuses duplicate keys (which json.loads silently merges)."""
    return json.loads(text, object_pairs_hook=_refuse_duplicates)


def system_json_text(system: dict[str, str]) -> str:
    text = json.dumps(system, indent=2, ensure_ascii=False) + "\n"
    load_strict(text)   # a duplicate would be a bug here: fail loudly
    return text
