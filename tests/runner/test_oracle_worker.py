"""The TFLM oracle runs in a worker process: a crash inside TFLM is a named error (issue 25)."""

from __future__ import annotations

from pathlib import Path

import flatbuffers
import numpy as np
import pytest

from tinygen.benches import get_bench
from tinygen.errors import TinygenError
from tinygen.runner.dataset import random_stimuli
from tinygen.runner.oracle import Oracle

pytest.importorskip("tflite_micro")
MODELS = Path(__file__).resolve().parents[2] / "models"


def _softmax_beta(tmp_path: Path, beta: float) -> Path:
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    m = schema.ModelT.InitFromPackedBuf((MODELS / "kws01.tflite").read_bytes(), 0)
    m.subgraphs[0].operators[11].builtinOptions.beta = beta
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(m.Pack(builder), file_identifier=b"TFL3")
    path = tmp_path / "beta.tflite"
    path.write_bytes(bytes(builder.Output()))
    return path


def test_a_tflm_abort_is_a_named_error_and_tinygen_goes_on(tmp_path):
    """softmax beta 1e-30 aborts TFLM's Prepare (SIGABRT); it used to end verify."""
    bench = get_bench("kws01")
    with pytest.raises(TinygenError) as exc:
        Oracle(_softmax_beta(tmp_path, 1e-30), bench)
    msg = str(exc.value)
    assert "\n" not in msg
    assert "TFLM oracle crashed with SIGABRT" in msg and "beta.tflite" in msg
    # This process is fine: an oracle on a good model still answers.
    oracle = Oracle(MODELS / "kws01.tflite", bench)
    assert len(oracle.expected(random_stimuli(bench, 1)[0].data)) == 12
    oracle.close()


def test_the_worker_answers_what_the_interpreter_answers_in_process():
    from tflite_micro.python.tflite_micro import runtime

    bench = get_bench("kws01")
    oracle = Oracle(MODELS / "kws01.tflite", bench)
    direct = runtime.Interpreter.from_file(str(MODELS / "kws01.tflite"))
    for stim in random_stimuli(bench, 4, seed=5):
        tensor = oracle.input_tensor(stim.data)
        direct.set_input(tensor, 0)
        direct.invoke()
        want = np.asarray(direct.get_output(0)).reshape(-1)
        np.testing.assert_array_equal(oracle.raw_output(stim.data), want)
    oracle.close()
    with pytest.raises(TinygenError, match="was closed"):
        oracle.raw_output(stim.data)
