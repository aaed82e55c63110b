"""sww01 in the bench registry, apart from the per-inference benches."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tinygen.benches import ALL_BENCHMARKS, BENCHMARKS, get_bench
from tinygen.errors import TinygenError
from tinygen.port.generate import generate_port


def test_sww_resolves_by_short_name_and_id():
    for name in ("sww", "SWW01"):
        b = get_bench(name)
        assert b.id == "sww01" and b.short == "sww" and b.is_streaming
    b = get_bench("sww")
    assert (b.fn_max, b.fp_max, b.long_test_words) == (8, 8, 50)
    assert b.input_shape == (1, 30, 1, 40) and b.output_shape == (1, 3)
    assert b.official_sha256 == "3af8550895ba7d5c584277102b5075c52dcfa63ba9d2b2240f37c4e6abd5dd2b"
    assert b.official_url.endswith("streaming_wakeword/trained_models/str_ww_ref_model.tflite")
    assert b not in BENCHMARKS and b in ALL_BENCHMARKS
    assert b.to_dict()["scenario"] == "streaming"


def test_official_pin_matches_the_shared_file():
    path = Path(__file__).resolve().parents[3] / "shared" / "reference-models" / \
        "sww01_str_ww_ref_model.tflite"
    if not path.is_file():
        pytest.skip("../shared/reference-models is not here")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == get_bench("sww").official_sha256


def test_committed_untrained_model_has_the_reference_layer_list():
    from tinygen.zoo.stats import model_stats
    b = get_bench("sww")
    stats = model_stats(b.model_path.read_bytes())
    assert stats.macs == b.paper_macs == 826_368
    assert stats.input_shapes == ((1, 30, 1, 40),) and stats.output_shapes == ((1, 3),)
    assert stats.op_counts["DEPTHWISE_CONV_2D"] == 4 and stats.op_counts["CONV_2D"] == 4
    assert "untrained" in stats.description


def test_sww_is_not_for_the_host_board(tmp_path):
    with pytest.raises(TinygenError, match="not on the host board"):
        generate_port("host", "sww", out_dir=tmp_path)
