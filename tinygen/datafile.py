"""Reading the data files a user writes or hands over: the YAML of boards,
parts and families, and the JSON records of sessions and builds.

The files are small and hand-written, but they may come from anywhere, so
reading them is bounded: at most ``MAX_BYTES`` of UTF-8 text, mappings and
lists nested at most ``MAX_DEPTH`` deep, no YAML anchors or aliases (an
alias can stand for an exponentially large value: a 1 KB "billion laughs"
file). Every error is one line of bounded length: values are shown through
``show``, never ``repr`` of what the file expanded to.

``Reader`` collects the errors of a whole file, so a user fixes them all
in one go: each section of a file is checked inside ``reader.section()``,
and a section that fails leaves its value ``None`` for the sections that
depend on it (which then skip their checks instead of adding noise).
"""

from __future__ import annotations

import contextlib
import difflib
import json
import re
from pathlib import Path
from typing import Any, Iterator

import yaml

from tinygen.errors import TinygenError

MAX_BYTES = 256 * 1024
MAX_DEPTH = 16
MAX_SHOWN = 60          # characters of a value quoted in a message
MAX_ERRORS = 20         # errors of one file reported together


def show(value: Any, limit: int = MAX_SHOWN) -> str:
    """A value for a one-line message: quoted, control characters escaped,
    cut to ``limit`` characters. Containers are named, not printed."""
    if isinstance(value, (dict, list, tuple, set)):
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)} items"
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10 ** 12:
        return f"a {value.bit_length()}-bit number"
    text = value if isinstance(value, str) else str(value)
    text = text.encode("unicode_escape").decode("ascii")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f"'{text}'" if isinstance(value, str) else text


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases and deep nesting while composing,
    before any value is built."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent, index):  # noqa: ANN001 (PyYAML's signature)
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _Refused(event.start_mark.line + 1,
                           "uses a YAML alias (*name); write the value out")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                event = self.peek_event()
                raise _Refused(event.start_mark.line + 1,
                               f"nests deeper than {MAX_DEPTH} levels; flatten it")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Refused(Exception):
    def __init__(self, line: int, problem: str):
        super().__init__(problem)
        self.line = line
        self.problem = problem


def load_yaml(path: Path, what: str) -> Any:
    """The parsed content of one data file, or a one-line TinygenError."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as exc:
        raise TinygenError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_BYTES:
        raise TinygenError(f"{path}: larger than {MAX_BYTES // 1024} KB, which no {what} is; "
                           "give the right file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TinygenError(f"{path}: not UTF-8 text (byte {exc.start}); save the {what} "
                           "as UTF-8") from exc
    loader = None
    try:
        loader = _BoundedLoader(text)     # PyYAML's reader checks the characters here
        return loader.get_single_data()
    except _Refused as exc:
        raise TinygenError(f"{path}: line {exc.line} {exc.problem}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "cannot parse"
        problem = show(str(problem), 80).strip("'")
        raise TinygenError(f"{path}:{line} is not valid YAML ({problem}); fix the syntax") from exc
    except RecursionError as exc:     # cannot happen below MAX_DEPTH; kept as a guard
        raise TinygenError(f"{path}: nests too deep; flatten it") from exc
    finally:
        if loader is not None:
            loader.dispose()


MAX_JSON_BYTES = 64 * 1024 * 1024     # an ad01 accuracy session holds every window's values
MAX_JSON_DEPTH = 32


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def load_json(path: Path, what: str, fix: str, max_bytes: int = MAX_JSON_BYTES) -> dict[str, Any]:
    """The JSON object of one record file (a session's results.json, a
    build.json), or a one-line TinygenError ending in ``fix``: at most
    ``max_bytes`` of UTF-8, nested at most ``MAX_JSON_DEPTH`` deep, no
    NaN or Infinity (tinygen writes them as null), an object at the top."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            raw = f.read(max_bytes + 1)
    except OSError as exc:
        raise TinygenError(f"cannot read {what} {path}: {exc.strerror or exc}; {fix}") from exc
    if len(raw) > max_bytes:
        raise TinygenError(f"{path}: larger than {max_bytes // (1024 * 1024)} MB, which no {what} "
                           f"is; {fix}")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise TinygenError(f"{path}: not UTF-8 text (byte {exc.start}); {fix}") from exc
    except RecursionError as exc:
        raise TinygenError(f"{path}: nests deeper than {MAX_JSON_DEPTH} levels; {fix}") from exc
    except ValueError as exc:
        raise TinygenError(f"{path}: not valid JSON ({show(str(exc), 80).strip(chr(39))}); "
                           f"{fix}") from exc
    if not isinstance(data, dict):
        raise TinygenError(f"{path}: {json_kind(data)} where a JSON object belongs; {fix}")
    if _depth(data) > MAX_JSON_DEPTH:
        raise TinygenError(f"{path}: nests deeper than {MAX_JSON_DEPTH} levels; {fix}")
    return data


def _depth(value: Any) -> int:
    """How deep lists and objects nest (iteratively: no recursion on hostile input)."""
    deepest, todo = 0, [(value, 1)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                todo.extend((v, level + 1) for v in item if isinstance(v, (dict, list)))
    return deepest


# Types of a JSON record's fields, for ``check_fields``. Every field may be
# null or absent (records grow over versions); a present one has its type.
TEXT, PATH, INT, NUMBER, FLAG, OBJECT = ("text", "a path", "a whole number", "a number",
                                        "true or false", "an object")
MAX_PATH = 4096


def json_kind(value: Any) -> str:
    """What a JSON value is, for a one-line message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the flag {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {show(value)}"
    if isinstance(value, str):
        return f"the text {show(value)}"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return f"an object of {len(value)} keys"
    return type(value).__name__


def _fits(value: Any, kind: str) -> bool:
    if kind == TEXT:
        return isinstance(value, str)
    if kind == PATH:
        return isinstance(value, str) and "\0" not in value and 0 < len(value) <= MAX_PATH
    if kind == INT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == NUMBER:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == FLAG:
        return isinstance(value, bool)
    if kind == OBJECT:
        return isinstance(value, dict)
    raise ValueError(f"unknown field kind {kind}")


def check_fields(data: dict[str, Any], schema: dict[str, Any], where: str, fix: str) -> None:
    """Raise a one-line TinygenError for the first field of ``data`` whose
    type is not the schema's. A schema maps keys to a kind (TEXT, INT, ...),
    to a nested schema (an object), or to ``[kind or schema]`` (a list of
    them); keys the schema does not name are not checked."""
    todo: list[tuple[Any, Any, str, bool]] = [(data, schema, "", False)]
    while todo:
        value, want, dotted, listed = todo.pop()
        if value is None and not listed:      # a field may be null, a list's item not
            continue
        if isinstance(want, dict):
            if not isinstance(value, dict):
                raise _field_error(where, dotted, value, OBJECT, fix)
            todo.extend((value.get(k), w, f"{dotted}.{k}" if dotted else k, False)
                        for k, w in reversed(want.items()))
        elif isinstance(want, list):
            if not isinstance(value, list):
                raise _field_error(where, dotted, value, "a list", fix)
            todo.extend((v, want[0], f"{dotted}[{i}]", True)
                        for i, v in reversed(list(enumerate(value))))
        elif not _fits(value, want):
            raise _field_error(where, dotted, value, want, fix)


def check_map(data: dict[str, Any], kind: str, where: str, fix: str) -> None:
    """Every value of a mapping of names (tools, outputs, macros) of ``kind``;
    null is no value here."""
    for key, value in data.items():
        if value is None or not _fits(value, kind):
            raise _field_error(where, str(key), value, kind, fix)


def _field_error(where: str, dotted: str, value: Any, want: str, fix: str) -> TinygenError:
    return TinygenError(f"{where}: '{dotted}' is {json_kind(value)} where {want} belongs; {fix}")


def one_line(text: Any, limit: int = 300) -> str:
    """Text from a file, for a message: control characters escaped, cut to ``limit``."""
    return show(str(text), limit).strip("'") if text is not None else ""


class Reader:
    """Reads one data file's mappings, naming the file and key in every
    error and collecting the errors of the file."""

    def __init__(self, path: Path, keys: dict[str, tuple[str, ...]]):
        self.path = path
        self.keys = keys
        self.errors: list[str] = []

    # -- errors ------------------------------------------------------------

    def fail(self, key: str, problem: str, fix: str) -> TinygenError:
        return TinygenError(f"{self.path}: key '{show(key).strip(chr(39))}': {problem}; {fix}")

    @contextlib.contextmanager
    def section(self) -> Iterator[None]:
        """Check one part of the file; its error is kept, the next part
        is read too."""
        try:
            yield
        except TinygenError as exc:
            if len(self.errors) < MAX_ERRORS:
                self.errors.append(str(exc))

    def attempt(self, read, *args, **kwargs) -> Any:
        """``read(*args)``, or None when it fails (the error is kept)."""
        with self.section():
            return read(*args, **kwargs)
        return None

    def finish(self) -> None:
        """Raise every kept error at once, one line each."""
        if self.errors:
            raise TinygenError("\n".join(self.errors))

    # -- typed values ------------------------------------------------------

    def mapping(self, data: Any, key: str, schema: str | None = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, f"expected a mapping, got {_kind(data)}",
                            "write it as 'key: value' lines")
        if schema is not None:
            self.known_keys(data, key, schema)
        return data

    def known_keys(self, data: dict[str, Any], key: str, schema: str) -> None:
        allowed = self.keys[schema]
        for name in data:
            if name in allowed:
                continue
            dotted = f"{key}.{name}" if key and key != "<top level>" else str(name)
            near = difflib.get_close_matches(str(name), allowed, n=1, cutoff=0.5)
            fix = (f"did you mean '{near[0]}'?" if near else
                   "remove it; valid keys here: " + ", ".join(allowed))
            raise self.fail(dotted, "unknown key", fix)

    def get(self, data: dict[str, Any], key: str, dotted: str, required: bool = True,
            hint: str = "") -> Any:
        if key not in data or data[key] is None:
            if required:
                raise self.fail(dotted, "missing", hint or f"add '{key}:' (see boards/README.md)")
            return None
        return data[key]

    def string(self, data, key, dotted, choices=None, required=True) -> str | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.fail(dotted, f"expected text, got {show(value)}", "give a non-empty string")
        if "\n" in value.strip() or len(value) > 200:
            raise self.fail(dotted, f"{show(value)} is not a one-line name",
                            "give one short line of text")
        if choices and value not in choices:
            near = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            hint = f"did you mean '{near[0]}'? " if near else ""
            raise self.fail(dotted, f"unknown value {show(value)}",
                            hint + "use one of " + ", ".join(choices))
        return value

    def integer(self, data, key, dotted, minimum=0, maximum=None, required=True) -> int | None:
        value = self.get(data, key, dotted, required)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(dotted, f"expected a whole number, got {show(value)}",
                            "write a decimal or 0x hexadecimal number")
        if value < minimum:
            raise self.fail(dotted, f"{show(value)} is below {minimum}", f"use a value >= {minimum}")
        if maximum is not None and value > maximum:
            raise self.fail(dotted, f"{show(value)} is above {maximum}",
                            f"use a value <= {maximum}")
        return value

    def size(self, data, key, dotted) -> int:
        value = self.get(data, key, dotted)
        if isinstance(value, str):
            m = _SIZE.match(value)
            if not m:
                raise self.fail(dotted, f"cannot read size {show(value)}",
                                "write bytes as a number or with K/M, e.g. 96K or 0x18000")
            value = int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 * 1024}[m.group(2).lower()]
        elif isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(dotted, f"cannot read size {show(value)}",
                            "write bytes as a number or with K/M, e.g. 96K or 0x18000")
        if value <= 0:
            raise self.fail(dotted, "size must be positive", "give the region's size in bytes")
        if value > ADDRESS_SPACE:
            raise self.fail(dotted, f"{show(value)} bytes is more than the 4 GB address space",
                            "give the region's size in bytes")
        return value

    def address(self, data, key, dotted, required=True) -> int | None:
        return self.integer(data, key, dotted, minimum=0, maximum=ADDRESS_SPACE - 1,
                            required=required)

    def boolean(self, data, key, dotted, required=True, default=False) -> bool:
        value = self.get(data, key, dotted, required)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise self.fail(dotted, f"expected true or false, got {show(value)}",
                            "write true or false")
        return value

    def strings(self, data, key, dotted) -> list[str]:
        value = self.get(data, key, dotted, required=False)
        if value is None:
            return []
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise self.fail(dotted, f"cannot read {show(value)}", "give a list of strings")
        return value

    def items(self, data, key, dotted, example: str) -> list[Any]:
        value = self.get(data, key, dotted, required=False) or []
        if not isinstance(value, list):
            raise self.fail(dotted, f"expected a list, got {_kind(value)}", f"list them as {example}")
        return value


ADDRESS_SPACE = 1 << 32
_SIZE = re.compile(r"^\s*(\d{1,10})\s*([KkMm]?)\s*$")


def _kind(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return show(value)
    return f"{type(value).__name__} {show(value)}"
