"""A port built against a harness written to the official API (--harness DIR).

The harness in api_harness/ is tinygen's own test code in the official
repository's shape: C++, `#include "api/..."`, no extern "C", atoi and the
EE_* macros taken from submitter_implemented.h, and a template
submitter_implemented.h (an #error) that the generated one must replace.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import HARNESS_DIR, need_host_cxx, tinygen
from tinygen.errors import TinygenError
from tinygen.port.generate import generate_port

VERIFY_PASSED = "4 of 4 checks passed"


def test_generated_header_serves_c_and_cxx_with_c_linkage(tmp_path):
    """The official harness relies on the header for atoi/strtok and the EE_* macros;
    th_* must keep C linkage when C++ includes it."""
    need_host_cxx()
    port = generate_port("host", "kws", out_dir=tmp_path / "port")
    user = tmp_path / "user.c"
    user.write_text(
        '#include "submitter_implemented.h"\n'
        "int use(char *line) {\n"
        "    char *tok = strtok(line, EE_CMD_DELIMITER);\n"
        "    th_printf(EE_MSG_NAME, \"dut\", TH_VENDOR_NAME_STRING);\n"
        "    th_printf(EE_MSG_READY); th_printf(EE_MSG_INIT_DONE); th_printf(EE_ERR_CMD, tok);\n"
        "    return atoi(tok) + (int)MAX_DB_INPUT_SIZE + (int)EE_CMD_SIZE\n"
        "        + (EE_CMD_TERMINATOR == '%') + strncmp(tok, EE_CMD_NAME, EE_CMD_SIZE)\n"
        "        + strncmp(tok, EE_CMD_TIMESTAMP, EE_CMD_SIZE) + (int)sizeof TH_MODEL_VERSION;\n"
        "}\n")
    includes = [f"-I{port.src_dir}", f"-I{port.build_dir / 'harness'}"]
    for compiler, lang in (("cc", ["-std=c99"]), ("c++", ["-x", "c++", "-std=c++17"])):
        obj = tmp_path / f"user-{compiler}.o"
        subprocess.run([compiler, *lang, "-Wall", "-Wextra", "-Werror", *includes, "-c",
                        str(user), "-o", str(obj)], check=True, timeout=120)
        undefined = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True,
                                   check=True, timeout=60).stdout.split()
        assert "th_printf" in undefined, (compiler, undefined)


def test_a_folder_that_is_not_a_harness_is_refused(tmp_path):
    with pytest.raises(TinygenError, match=r"needs internally_implemented\.h and "
                                           r"internally_implemented\.cpp"):
        generate_port("host", "kws", out_dir=tmp_path / "port", harness=tmp_path)


def _verify(tmp_path, *extra: str) -> subprocess.CompletedProcess:
    return tinygen("verify", "--board", "host", "--bench", "kws", "--quick", "--golden", "3",
                   "--harness", str(HARNESS_DIR), "--build", str(tmp_path / "build"),
                   "--out", str(tmp_path / "session"), *extra)


def test_api_harness_links_with_the_tinygen_runtime_and_passes_verify(tmp_path):
    need_host_cxx()
    done = _verify(tmp_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert VERIFY_PASSED in done.stdout
    assert "PASS  golden outputs" in done.stdout
    assert "tinygen test harness (official API layout)" in done.stdout   # its profile answered
    build = tmp_path / "build"
    assert (build / "harness_api/api/submitter_implemented.h").read_text() == \
        (build / "src/submitter_implemented.h").read_text()
    manifest = json.loads((build / "build.json").read_text())
    assert manifest["harness"] == str(HARNESS_DIR)
    assert manifest["runtime"] == "tinygen"


def test_api_harness_links_with_the_tflm_runtime_and_passes_verify(tmp_path, ref_tree):
    need_host_cxx()
    done = _verify(tmp_path, "--runtime", "tflm", "--tflm", str(ref_tree))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert VERIFY_PASSED in done.stdout
    assert "int8 outputs bit-exact with the TFLM oracle" in done.stdout


# Small edits of api_harness/ for the conformance check of a foreign harness:
# (what to find, what to put instead) in internally_implemented.cpp.
OFFICIAL_WORDING = [
    # The official harness's refusal of an oversize load: no e- prefix.
    ('th_printf("e-[db load needs 1 to %u bytes]\\r\\n", (unsigned)MAX_DB_INPUT_SIZE);',
     'th_printf("Supplied buffer size %d exceeds maximum of %u\\n", n, '
     '(unsigned)MAX_DB_INPUT_SIZE);'),
    # Other refusals in words of its own.
    ('th_printf("e-[db: not a hex digit]\\r\\n");', 'th_printf("bad hex digit\\r\\n");'),
    ('th_printf("e-[infer needs N > 0 and W >= 0]\\r\\n");',
     'th_printf("ERROR: infer N must be positive\\r\\n");'),
]
ACCEPTS_OVERSIZE = [
    # Takes any positive count (it never writes past its buffer here: the
    # check sends no bytes after the oversize load).
    ("if (n <= 0 || (size_t)n > MAX_DB_INPUT_SIZE) {", "if (n <= 0) {"),
]


def _harness_variant(tmp_path, edits) -> Path:
    folder = tmp_path / "harness"
    shutil.copytree(HARNESS_DIR, folder)
    source = folder / "internally_implemented.cpp"
    text = source.read_text()
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    source.write_text(text)
    return folder


def _verify_with(tmp_path, harness: Path) -> subprocess.CompletedProcess:
    return tinygen("verify", "--board", "host", "--bench", "kws", "--quick", "--golden", "1",
                   "--harness", str(harness), "--build", str(tmp_path / "build"),
                   "--out", str(tmp_path / "session"))


def _conformance(tmp_path) -> dict:
    checks = json.loads((tmp_path / "session" / "results.json").read_text())["checks"]
    return next(c for c in checks if c["name"] == "protocol conformance")


def test_a_harness_refusing_in_its_own_words_passes_conformance(tmp_path):
    """The official wording ('Supplied buffer size ... exceeds maximum of ...')
    and other refusals without e-: judged by behaviour, they pass."""
    need_host_cxx()
    done = _verify_with(tmp_path, _harness_variant(tmp_path, OFFICIAL_WORDING))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    check = _conformance(tmp_path)
    assert check["passed"] is True
    assert "judged by behaviour" in check["detail"]
    log = (tmp_path / "session" / "log.txt").read_text()
    assert "Supplied buffer size 16777216 exceeds maximum of" in log


def test_a_harness_accepting_an_oversize_load_fails_conformance(tmp_path):
    need_host_cxx()
    done = _verify_with(tmp_path, _harness_variant(tmp_path, ACCEPTS_OVERSIZE))
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    check = _conformance(tmp_path)
    assert check["passed"] is False
    assert check["detail"].startswith("oversize db load: accepted, no refusal")
    assert "m-[Expecting 16777216 bytes]" in check["detail"]
