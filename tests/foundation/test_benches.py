"""The benchmark registry holds the protocol facts every stage relies on."""

from __future__ import annotations

import json
from math import prod

import pytest

from tinygen.benches import BENCHMARKS, get_bench
from tinygen.cli import main
from tinygen.errors import TinygenError


@pytest.mark.parametrize("name, bench_id", [
    ("kws", "kws01"), ("KWS01", "kws01"), ("vww", "vww01"), ("ic01", "ic01"), ("ad", "ad01"),
    ("ic2", "ic02"), ("IC02", "ic02"),
])
def test_short_names_and_ids_resolve(name, bench_id):
    assert get_bench(name).id == bench_id


def test_unknown_bench_lists_the_known_ones():
    with pytest.raises(TinygenError, match=r"unknown benchmark 'speech'.*kws \(kws01\)"):
        get_bench("speech")


def test_host_byte_counts_follow_the_input_conversion():
    bytes_per_element = {"int8": 1, "uint8-minus-128": 1, "float32-le-quantize": 4}
    for b in BENCHMARKS:
        assert b.input_bytes == prod(b.input_shape) * bytes_per_element[b.input_format], b.id


def test_ad01_slides_2560_byte_windows_by_512():
    ad = get_bench("ad")
    assert (ad.window_bytes, ad.stride_bytes, ad.metric) == (2560, 512, "auc")


def test_official_urls_are_pinned_to_a_commit_with_sha256():
    for b in BENCHMARKS:
        assert "/1afd2c9820f795965a6134facd0b4dfae41ef23f/" in b.official_url
        assert len(b.official_sha256) == 64


def test_cli_benches_json(capsys):
    assert main(["benches", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == ["kws01", "vww01", "ic01", "ic02", "ad01", "sww01"]
    assert {d["scenario"] for d in data[:5]} == {"single-stream"}
    sww = data[5]
    assert sww["short"] == "sww" and sww["scenario"] == "streaming"
    assert (sww["fn_max"], sww["fp_max"], sww["long_test_words"]) == (8, 8, 50)
    assert "fn_max" not in data[0]
    ic2 = next(d for d in data if d["id"] == "ic02")
    assert ic2["short"] == "ic2" and ic2["input_shape"] == [1, 32, 32, 3]
    assert ic2["paper_macs"] == 76_500_000 and ic2["target"] == 0.91
    assert ic2["official_sha256"] == (
        "dc27dcd823f5665533352f7da516b0c9bc6f089914b8283782e55961b3423fcf")
    assert ic2["official_url"].endswith(
        "benchmark/training/image_classification/trained_models/pretrainedResnet_large_int8.tflite")


def test_cli_benches_table_says_the_models_are_untrained(capsys):
    assert main(["benches"]) == 0
    assert "untrained" in capsys.readouterr().out


def test_cli_benches_table_lists_the_streaming_bench_beside_the_five(capsys):
    assert main(["benches"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines if line.split()}
    assert {"kws", "vww", "ic", "ic2", "ad", "sww"} <= set(rows)
    assert "single-stream" in rows["kws"] and "top-1 >= 90% (1000 stimuli)" in rows["kws"]
    assert "AUC >= 0.85" in rows["ad"]
    assert "streaming" in rows["sww"] and "sww01" in rows["sww"]
    assert "FN <= 8, FP <= 8 over the 50-word long test" in rows["sww"]
    assert "16 kHz audio (interface board)" in rows["sww"]
