"""What the kernel tests share: random int8 inputs for a one-operator model
with the TFLM oracle's outputs for them, the bare-metal runner
(fixtures/qemu_model_main.c) built and run under QEMU over semihosting, and
the bit-exact comparison, whose message names the first output that differs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

FIXTURES = Path(__file__).parent / "fixtures"
INPUTS_PER_MODEL = 3
QEMU_TIMEOUT_S = 60


class TfliteReference:
    """TensorFlow Lite's interpreter behind the TFLM interpreter's calls: the
    oracle for operators TFLM has no kernel for (TILE, a copy; its reference
    resolver lacks the int8 version)."""

    def __init__(self, tflite: Path):
        import tensorflow as tf

        self.interp = tf.lite.Interpreter(model_path=str(tflite))
        self.interp.allocate_tensors()

    def get_input_details(self, index: int) -> dict:
        return self.interp.get_input_details()[index]

    def set_input(self, x: np.ndarray, index: int) -> None:
        self.interp.set_tensor(self.get_input_details(index)["index"], x)

    def invoke(self) -> None:
        self.interp.invoke()

    def get_output(self, index: int) -> np.ndarray:
        return self.interp.get_tensor(self.interp.get_output_details()[index]["index"])


def open_oracle(tflite: Path, oracle: str = "tflm"):
    """The TFLM interpreter, or with oracle="tflite" TensorFlow Lite's."""
    if oracle == "tflite":
        return TfliteReference(tflite)
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_file(str(tflite))


def oracle_cases(tflite: Path, seed: int, count: int = INPUTS_PER_MODEL,
                 oracle: str = "tflm") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(inputs, oracle outputs): `count` random int8 inputs drawn with `seed`."""
    oracle = open_oracle(tflite, oracle)
    shape = oracle.get_input_details(0)["shape"]
    rng = np.random.default_rng(seed)
    inputs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(count)]
    expected = []
    for x in inputs:
        oracle.set_input(x, 0)
        oracle.invoke()
        expected.append(np.asarray(oracle.get_output(0)).reshape(-1))
    return inputs, expected


def inputs_header(inputs: list[np.ndarray]) -> str:
    """tg_test_inputs.h: the inputs the bare-metal runner feeds the model, as
    bytes (a float32 input's little-endian bytes)."""
    raw = [np.ascontiguousarray(x).reshape(-1).view(np.int8) for x in inputs]
    rows = ",\n".join("    {" + ", ".join(str(int(v)) for v in x) + "}" for x in raw)
    return (f"#define TG_TEST_INPUTS {len(inputs)}\n"
            f"static const int8_t tg_test_inputs[{len(inputs)}][{raw[0].size}] = {{\n{rows}\n}};\n")


def run_bare_metal(src, inputs: list[np.ndarray], out: Path, *, flags: list[str], machine: str,
                   linker_script: str, variant: str, dtype=np.int8) -> list[np.ndarray]:
    """The outputs, one per input, of the runner linked with the generated
    sources `src` (tinygen.codegen) and run under QEMU `machine`. The plan
    must be for the kernel target `variant` (tinygen/plan/variants.py) and,
    unless portable, compile kernels from that variant's folder, so a build
    that silently fell back to the portable kernels fails."""
    assert src.target == variant, f"planned for {src.target}, not {variant}"
    if variant != "portable":
        assert any(k.parent.name == variant for k in src.kernel_sources), src.kernel_sources
    (out / "tg_test_inputs.h").write_text(inputs_header(inputs))
    elf = out / "model.elf"
    cmd = ["arm-none-eabi-gcc", *flags, *[f"-I{d}" for d in src.include_dirs],
           str(FIXTURES / "qemu_model_main.c"), str(src.model_c),
           *[str(k) for k in src.kernel_sources],
           "-nostartfiles", "-nostdlib", "-Wl,--gc-sections", "-T", str(FIXTURES / linker_script),
           "-lc", "-lgcc", "-o", str(elf)]   # libc for memcpy/memset only
    subprocess.run(cmd, check=True, capture_output=True, text=True, timeout=120)
    done = subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
         "-serial", "none", "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=QEMU_TIMEOUT_S)
    # QEMU writes the semihosting console to stderr.
    lines = (done.stdout + done.stderr).splitlines()
    marker = "ready"
    assert marker in lines, done.stdout[:200] + done.stderr[:400]
    hex_lines = lines[lines.index(marker) + 1:][:len(inputs)]
    outputs = [np.frombuffer(bytes.fromhex(h), dtype=dtype) for h in hex_lines]
    assert len(outputs) == len(inputs), done.stdout[:200] + done.stderr[:400]
    return outputs


def assert_bit_exact(got: list[np.ndarray], expected: list[np.ndarray], what: str) -> None:
    """Every output equals the oracle's, byte for byte."""
    assert len(got) == len(expected), f"{what}: {len(got)} outputs for {len(expected)} inputs"
    for i, (g, e) in enumerate(zip(got, expected)):
        g = np.asarray(g).reshape(-1)
        diff = np.flatnonzero(g != e)
        assert diff.size == 0, (f"{what} input {i}: {diff.size} of {g.size} differ, first at "
                                f"{diff[0]}: tinygen {g[diff[0]]} vs TFLM {e[diff[0]]}")
