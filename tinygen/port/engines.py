"""The engines a port can run its model on, by --runtime name.

Adding one: a module with a tinygen.port.engine.Engine subclass, and an
entry here. The first entry is the default.
"""

from __future__ import annotations

from tinygen.errors import TinygenError
from tinygen.port.aot import AotEngine
from tinygen.port.engine import Engine
from tinygen.port.tflm import TflmEngine

ENGINES: dict[str, type[Engine]] = {
    AotEngine.name: AotEngine,
    TflmEngine.name: TflmEngine,
}
DEFAULT_ENGINE = AotEngine.name


def make_engine(name: str, **options) -> Engine:
    """The engine called name, set up with its options (None: not given).

    Errors name the engines there are, or the engine an option belongs to.
    """
    cls = ENGINES.get(name)
    if cls is None:
        raise TinygenError(f"unknown runtime '{name}'; use "
                           + " or ".join(e.usage for e in ENGINES.values()))
    for option, value in options.items():
        if value is not None and option not in cls.options:
            owner = next((e.name for e in ENGINES.values() if option in e.options), None)
            raise TinygenError(f"--{option} DIR is for --runtime {owner}; add --runtime {owner}")
    return cls.from_options(**{k: v for k, v in options.items() if k in cls.options})
