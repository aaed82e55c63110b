"""Shared fixtures for the runner tests."""

import sys
from pathlib import Path

# The fault-injecting peers live beside the tests.
sys.path.insert(0, str(Path(__file__).parent))
