"""Download the official MLPerf Tiny models, checked against pinned sha256.

The official trained models live in the MLCommons ``tiny`` repository at a
pinned commit (``Benchmark.official_url``). A download goes to a temporary
file beside the destination and is renamed into place only once its sha256
matches the pin, so a failed or wrong download never leaves a file behind.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from tinygen.benches import OFFICIAL_RAW_BASE, OFFICIAL_REPO_COMMIT, Benchmark
from tinygen.errors import TinygenError
from tinygen.zoo.files import open_temp_beside, publish

log = logging.getLogger(__name__)

# Overrides the download base (a mirror, or a local server in tests).
URL_ENV = "TINYGEN_MODEL_URL"
DEFAULT_TIMEOUT_S = 30.0
# A server trickling bytes never trips the per-read timeout; this bounds the whole download.
DEFAULT_TOTAL_TIMEOUT_S = 600.0
CHUNK = 64 * 1024
PROGRESS_EVERY_S = 1.0


def default_base() -> str:
    return f"{OFFICIAL_RAW_BASE}/{OFFICIAL_REPO_COMMIT}"


def official_url(bench: Benchmark, base: str | None = None) -> str:
    """Where to download a bench's official model.

    ``base`` (else $TINYGEN_MODEL_URL, else the pinned MLCommons commit) is
    either a folder that mirrors the repository layout, to which the
    official path is appended, or, when it ends in ``.tflite``, the file
    itself.
    """
    base = base or os.environ.get(URL_ENV) or default_base()
    if base.endswith(".tflite"):
        return base
    return f"{base.rstrip('/')}/{bench.official_path}"


def _describe_url_error(exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(reason)


def _log_progress(bench: Benchmark, done: int, total: int | None) -> None:
    if total:
        log.info("%s: %d / %d bytes (%d%%)", bench.id, done, total, 100 * done // total)
    else:
        log.info("%s: %d bytes", bench.id, done)


def fetch_model(bench: Benchmark, dest: Path, base: str | None = None,
                timeout_s: float = DEFAULT_TIMEOUT_S,
                total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S) -> str:
    """Download the official model of ``bench`` to ``dest``; return its sha256.

    Raises TinygenError on an unreachable server, an HTTP error, a timeout
    (``timeout_s`` bounds the connection and every read, ``total_timeout_s``
    the whole download) or a checksum mismatch; in every such case ``dest``
    is left untouched.
    """
    url = official_url(bench, base)
    dest = Path(dest)
    out_file, tmp = open_temp_beside(dest)
    log.info("downloading the official %s model from %s", bench.id, url)
    try:
        digest = hashlib.sha256()
        with out_file as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout_s) as response:
                    length = response.headers.get("Content-Length")
                    total = int(length) if length and length.isdigit() else None
                    done = 0
                    started = last_report = time.monotonic()
                    while True:
                        # read1: whatever has arrived, so the deadline is checked often.
                        chunk = response.read1(CHUNK)
                        if not chunk:
                            break
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        now = time.monotonic()
                        if now - started > total_timeout_s:
                            raise TinygenError(
                                f"download of {url} took longer than {total_timeout_s:g} s "
                                f"({done} bytes so far); check the network or use a mirror"
                            )
                        if now - last_report >= PROGRESS_EVERY_S:
                            _log_progress(bench, done, total)
                            last_report = now
            except urllib.error.HTTPError as exc:
                raise TinygenError(
                    f"download of {url} failed: HTTP {exc.code} {exc.reason}; "
                    f"check the address (--url or ${URL_ENV})"
                ) from None
            except ValueError as exc:  # urllib's answer to a malformed address
                raise TinygenError(
                    f"cannot download {url}: {exc}; give --url / ${URL_ENV} as http(s)://..."
                ) from None
            except http.client.HTTPException as exc:
                raise TinygenError(
                    f"download of {url} broke off ({type(exc).__name__}); try again"
                ) from None
            except (urllib.error.URLError, OSError) as exc:
                raise TinygenError(
                    f"cannot download {url}: {_describe_url_error(exc)}; check the network "
                    f"connection or point --url / ${URL_ENV} at a reachable mirror"
                ) from None
            if total is not None and done != total:
                raise TinygenError(
                    f"download of {url} stopped after {done} of {total} bytes; try again"
                )
        _log_progress(bench, done, total)
        got = digest.hexdigest()
        if got != bench.official_sha256:
            raise TinygenError(
                f"checksum mismatch for {url}: expected sha256 {bench.official_sha256}, "
                f"got {got}; the server sent a different file, nothing was written"
            )
        publish(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    log.info("wrote %s (sha256 %s)", dest, got)
    return got


def source_url(source: str) -> str:
    """An address for urllib: http(s):// and file:// as given, a local path as file://."""
    if "://" in source:
        return source
    path = Path(source).expanduser()
    if not path.exists():
        raise TinygenError(f"{source} is neither an http(s):// or file:// address nor an "
                           "existing file or folder; check the path")
    return path.resolve().as_uri()


def fetch_file(url: str, dest: Path, sha256: str | None = None,
               timeout_s: float = DEFAULT_TIMEOUT_S,
               total_timeout_s: float = DEFAULT_TOTAL_TIMEOUT_S) -> str:
    """Download ``url`` to ``dest``, resumably; return the file's sha256.

    The bytes go to ``dest.part`` first; an interrupted download is resumed
    from there (HTTP Range; a server or file:// that ignores Range starts
    again from the beginning). ``dest`` appears only once complete and, when
    ``sha256`` is given, only if it matches (a mismatch deletes the part).
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            if offset and getattr(response, "status", None) != 206:
                offset = 0   # Range ignored: the whole file comes again
            with open(part, "ab" if offset else "wb") as out:
                while True:
                    chunk = response.read1(CHUNK) if hasattr(response, "read1") else response.read(CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
                    if time.monotonic() - started > total_timeout_s:
                        raise TinygenError(
                            f"download of {url} took longer than {total_timeout_s:g} s; "
                            "run the command again to resume, or use a mirror")
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:   # the part is already whole
            pass
        else:
            raise TinygenError(f"download of {url} failed: HTTP {exc.code} {exc.reason}; "
                               "check the address (--url)") from None
    except ValueError as exc:
        raise TinygenError(f"cannot download {url}: {exc}; give --url as http(s)://, "
                           "file:// or a local folder") from None
    except http.client.HTTPException as exc:
        raise TinygenError(f"download of {url} broke off ({type(exc).__name__}); "
                           "run the command again to resume") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TinygenError(f"cannot download {url}: {_describe_url_error(exc)}; check the "
                           "network connection or point --url at a reachable mirror") from None
    digest = hashlib.sha256(part.read_bytes()).hexdigest()
    if sha256 is not None and digest != sha256:
        part.unlink(missing_ok=True)
        raise TinygenError(f"checksum mismatch for {url}: expected sha256 {sha256}, got "
                           f"{digest}; the server sent a different file, nothing was kept")
    os.replace(part, dest)
    return digest
