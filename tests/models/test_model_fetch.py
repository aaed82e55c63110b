"""tinygen model fetch against a local HTTP server."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tinygen.benches import get_bench
from tinygen.cli import main
from tinygen.errors import TinygenError
from tinygen.zoo.fetch import URL_ENV, fetch_model, official_url

REFERENCE_MODELS = Path(__file__).resolve().parents[3] / "shared" / "reference-models"
OFFICIAL_FILES = {
    "ic01": REFERENCE_MODELS / "ic01_resnet8_int8.tflite",
    "ad01": REFERENCE_MODELS / "ad01_fc_autoencoder_int8.tflite",
}


def _official_bytes(bench_id: str) -> bytes:
    path = OFFICIAL_FILES[bench_id]
    if not path.is_file():
        pytest.skip(f"official model not present at {path}")
    return path.read_bytes()


def _only(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_default_url_is_the_pinned_official_one() -> None:
    bench = get_bench("kws")
    assert official_url(bench) == bench.official_url


def test_base_url_gets_the_official_path_and_a_file_url_is_used_as_is() -> None:
    bench = get_bench("ic")
    assert official_url(bench, "http://m/x/") == f"http://m/x/{bench.official_path}"
    assert official_url(bench, "http://m/a.tflite") == "http://m/a.tflite"


@pytest.mark.parametrize("bench_id", sorted(OFFICIAL_FILES))
def test_official_file_with_right_sha256_is_written(file_server, tmp_path, capsys,
                                                   bench_id: str) -> None:
    bench = get_bench(bench_id)
    data = _official_bytes(bench_id)
    file_server.files["/" + bench.official_path] = data
    dest = tmp_path / "model.tflite"
    code = main(["model", "fetch", "--bench", bench_id, "--url", file_server.base,
                 "-o", str(dest)])
    assert code == 0
    assert dest.read_bytes() == data
    assert bench.official_sha256 in capsys.readouterr().out
    assert _only(tmp_path) == ["model.tflite"]


def test_environment_variable_sets_the_base(file_server, tmp_path, monkeypatch) -> None:
    bench = get_bench("ad")
    data = _official_bytes("ad01")
    file_server.files["/mirror/" + bench.official_path] = data
    monkeypatch.setenv(URL_ENV, file_server.base + "/mirror")
    dest = tmp_path / "ad.tflite"
    assert fetch_model(bench, dest, timeout_s=10) == bench.official_sha256
    assert dest.read_bytes() == data


def test_progress_is_logged(file_server, tmp_path, caplog) -> None:
    bench = get_bench("ad")
    file_server.files["/" + bench.official_path] = _official_bytes("ad01")
    with caplog.at_level("INFO", logger="tinygen.zoo.fetch"):
        fetch_model(bench, tmp_path / "ad.tflite", base=file_server.base, timeout_s=10)
    assert any("(100%)" in r.getMessage() for r in caplog.records)


def test_wrong_bytes_are_refused_and_nothing_is_left(file_server, tmp_path, capsys) -> None:
    bench = get_bench("kws")
    junk = b"not the model" * 1000
    file_server.files["/" + bench.official_path] = junk
    dest = tmp_path / "kws.tflite"
    code = main(["model", "fetch", "--bench", "kws", "--url", file_server.base,
                 "-o", str(dest)])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert bench.official_sha256 in err
    assert hashlib.sha256(junk).hexdigest() in err
    assert _only(tmp_path) == []


def test_failed_download_keeps_an_existing_file(file_server, tmp_path) -> None:
    bench = get_bench("vww")
    file_server.files["/" + bench.official_path] = b"wrong"
    dest = tmp_path / "vww.tflite"
    dest.write_bytes(b"previous")
    with pytest.raises(TinygenError, match="checksum mismatch"):
        fetch_model(bench, dest, base=file_server.base, timeout_s=10)
    assert dest.read_bytes() == b"previous"
    assert _only(tmp_path) == ["vww.tflite"]


def test_http_404_is_a_clear_error(file_server, tmp_path, capsys) -> None:
    code = main(["model", "fetch", "--bench", "ic", "--url", file_server.base,
                 "-o", str(tmp_path / "ic.tflite")])
    assert code == 1
    err = capsys.readouterr().err
    assert "HTTP 404" in err
    assert _only(tmp_path) == []


def test_unreachable_server_is_a_clear_error(closed_port, tmp_path, capsys) -> None:
    code = main(["model", "fetch", "--bench", "ad", "--url",
                 f"http://127.0.0.1:{closed_port}", "-o", str(tmp_path / "ad.tflite")])
    assert code == 1
    err = capsys.readouterr().err
    assert "cannot download" in err and "network" in err
    assert _only(tmp_path) == []


def test_silent_server_times_out(file_server, tmp_path) -> None:
    bench = get_bench("ad")
    file_server.stall.add("/" + bench.official_path)
    with pytest.raises(TinygenError, match="timed out"):
        fetch_model(bench, tmp_path / "ad.tflite", base=file_server.base, timeout_s=0.5)
    assert _only(tmp_path) == []


def test_truncated_download_is_refused(file_server, tmp_path) -> None:
    bench = get_bench("ad")
    path = "/" + bench.official_path
    file_server.files[path] = b"x" * 100_000
    file_server.truncate.add(path)
    with pytest.raises(TinygenError, match="broke off|stopped after"):
        fetch_model(bench, tmp_path / "ad.tflite", base=file_server.base, timeout_s=10)
    assert _only(tmp_path) == []


def test_unknown_bench_is_an_error(tmp_path, capsys) -> None:
    code = main(["model", "fetch", "--bench", "speech", "-o", str(tmp_path / "x.tflite")])
    assert code == 1
    err = capsys.readouterr().err
    assert "unknown benchmark 'speech'" in err and "kws" in err


def test_missing_output_folder_is_an_error(tmp_path, capsys) -> None:
    code = main(["model", "fetch", "--bench", "ad", "--url", "http://127.0.0.1:9",
                 "-o", str(tmp_path / "no" / "ad.tflite")])
    assert code == 1
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("action", ["fetch", "build"])
def test_help_teaches(action: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["model", action, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--bench" in out and "example" in out
    assert ("UNTRAINED" in out) if action == "build" else ("sha256" in out)


def test_model_without_action_shows_usage(capsys) -> None:
    assert main(["model"]) == 2
    out = capsys.readouterr().out
    assert "build" in out and "fetch" in out


def test_output_may_be_a_folder(file_server, tmp_path) -> None:
    bench = get_bench("ad")
    data = _official_bytes("ad01")
    file_server.files["/" + bench.official_path] = data
    assert main(["model", "fetch", "--bench", "ad", "--url", file_server.base,
                 "-o", str(tmp_path)]) == 0
    assert (tmp_path / "ad01_official.tflite").read_bytes() == data


def test_trickling_server_hits_the_total_deadline(file_server, tmp_path) -> None:
    bench = get_bench("ad")
    path = "/" + bench.official_path
    file_server.files[path] = b"y" * 200_000
    file_server.trickle.add(path)
    with pytest.raises(TinygenError, match="took longer than 0.5 s"):
        fetch_model(bench, tmp_path / "ad.tflite", base=file_server.base,
                    timeout_s=5, total_timeout_s=0.5)
    assert _only(tmp_path) == []


def test_malformed_url_is_a_clear_error(tmp_path, capsys) -> None:
    code = main(["model", "fetch", "--bench", "ad", "--url", "mirror/tiny",
                 "-o", str(tmp_path / "ad.tflite")])
    assert code == 1
    assert "http(s)://" in capsys.readouterr().err
    assert _only(tmp_path) == []
