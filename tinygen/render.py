"""The one place Jinja2 environments are made.

Generated sources: templates live in the checkout's templates/ folder and
are named by their path under it (``model/model.c.j2``,
``tflm/tflm_model.cc.j2``, ``port/tg_board.h.j2``,
``port/build/SConstruct.j2``), rendered with ``render``; a template kept
elsewhere beside its data (a family's ``tg_family.h.j2``) with
``render_file``, in the same environment rooted at its folder. Undefined
names are errors, and blocks do not leave blank lines behind. The C filters
format Python values as C literals: ``c_float`` (a float32 literal),
``c_value`` (a scalar, list or struct initializer) and ``c_array`` (an
array's initializer rows).

HTML pages (templates/report/, ``render_html``): the same block handling,
but values are escaped, a missing value renders empty instead of failing
(a report shows whatever a session recorded), and the filters format
figures: ``num`` (a number, or "-") and ``pct`` (a fraction as a percentage).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import jinja2
import numpy as np

from tinygen.paths import templates_dir


def c_float(v: float) -> str:
    text = repr(float(np.float32(v)))
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return text + "f"


def c_value(v) -> str:
    if isinstance(v, dict):  # a struct member that is itself a struct
        return "{" + ", ".join(f".{k} = {c_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "{" + ", ".join(c_value(x) for x in v) + "}"
    if isinstance(v, float):
        return c_float(v)
    return str(int(v))


def c_array(values: np.ndarray, per_line: int = 24) -> str:
    flat = np.asarray(values).reshape(-1)
    if flat.dtype == np.int32:
        # INT32_MIN cannot be written as a plain literal.
        items = [f"(-{-int(x) - 1}-1)" if x == -(1 << 31) else str(int(x)) for x in flat]
    elif flat.dtype.kind == "f":
        items = [c_float(x) for x in flat]
    else:
        items = [str(x) for x in flat.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return ",\n".join("    " + line for line in lines)


@lru_cache(maxsize=None)
def _environment(root: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(c_array=c_array, c_value=c_value, c_float=c_float)
    return env


def environment() -> jinja2.Environment:
    """The project's template environment (one per templates folder)."""
    return _environment(str(templates_dir()))


def render(template: str, **context) -> str:
    """A template under templates/, rendered with context."""
    return environment().get_template(template).render(**context)


def render_file(path: Path, **context) -> str:
    """The template file at path (outside templates/), rendered with context
    in the generated sources' environment rooted at its folder."""
    path = Path(path)
    return _environment(str(path.parent)).get_template(path.name).render(**context)


def _num(value, fmt: str = "{:,.3f}") -> str:
    return fmt.format(value) if value is not None else "-"


def _pct(value) -> str:
    return f"{100 * value:.1f}%" if value is not None else "-"


@lru_cache(maxsize=None)
def _html_environment(root: str) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(root), autoescape=True,
                             undefined=jinja2.ChainableUndefined,
                             trim_blocks=True, lstrip_blocks=True)
    env.filters.update(num=_num, pct=_pct)
    return env


def render_html(template: str, **context) -> str:
    """An HTML page template under templates/report/, rendered with context."""
    return _html_environment(str(templates_dir() / "report")).get_template(template).render(
        **context)
