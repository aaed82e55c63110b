"""tinygen doctor: is this machine ready to build, emulate and flash?"""

from __future__ import annotations

import argparse
import json

from tinygen import toolchain
from tinygen.boards import all_boards


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "doctor",
        help="check the cross compiler, QEMU, pyocd and Python packages",
        description=(
            "Check everything tinygen drives: arm-none-eabi-gcc and newlib (ARM "
            "builds), the host C compiler (the 'host' board), QEMU >= 9 with the "
            "machines the emulated boards use, SCons, pyocd and the target packs "
            "of the real boards, the TFLM oracle and TensorFlow (only needed to "
            "rebuild the reference models). Each missing piece is printed with "
            "the command that installs it. Exit status 1 when a required piece "
            "is missing."
        ),
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def collect() -> list[toolchain.Check]:
    boards = all_boards()
    machines = tuple(sorted({b.emulator.qemu_machine for b in boards if b.emulator}))
    targets = tuple(sorted({b.pyocd_target for b in boards if b.pyocd_target}))
    pip_fix = "pip install -e . in the tinygen checkout (or " + toolchain.SETUP_HINT + ")"
    return [
        toolchain.check_executable("arm-none-eabi-gcc"),
        toolchain.check_newlib(),
        toolchain.check_executable("arm-none-eabi-objcopy"),
        toolchain.check_executable("cc"),
        toolchain.check_qemu(machines),
        toolchain.check_module("SCons", "scons", pip_fix),
        toolchain.check_module("serial", "pyserial", pip_fix),
        toolchain.check_module("pyocd", "pyocd", pip_fix),
        toolchain.check_pyocd_targets(targets),
        toolchain.check_module("tflite", "tflite (parser)", pip_fix),
        toolchain.check_module("tflite_micro", "tflite-micro (oracle)", pip_fix),
        toolchain.check_module("sklearn", "scikit-learn", pip_fix),
        toolchain.check_distribution(
            "tensorflow-cpu", "tensorflow", "tensorflow (model build only)",
            "pip install -e '.[models]' in the tinygen checkout", required=False),
    ]


def run(args: argparse.Namespace) -> int:
    checks = collect()
    failed = [c for c in checks if c.required and not c.ok]
    if args.json:
        print(json.dumps({
            "ok": not failed,
            "checks": [c.__dict__ for c in checks],
        }, indent=2))
        return 1 if failed else 0
    width = max(len(c.name) for c in checks)
    for c in checks:
        mark = "ok  " if c.ok else ("MISS" if c.required else "opt ")
        print(f"{mark} {c.name.ljust(width)}  {c.detail}")
        if not c.ok:
            print(f"     {' ' * width}  fix: {c.fix}")
    if failed:
        print(f"\n{len(failed)} required piece(s) missing: "
              f"{', '.join(c.name for c in failed)}. Fix them, then run 'tinygen doctor' again.")
        return 1
    print("\nReady: tinygen can build for every board and run the emulated ones.")
    return 0
