"""tinygen: generate, build, flash and verify MLPerf Tiny ports."""

__version__ = "0.1.0"
