"""Where the vendored Constant Contact spec lives (see README.md beside this file)."""

from pathlib import Path

SPEC_PATH = Path(__file__).resolve().parent / "cc-v3-swagger-2.0-build-3.0.178.yaml"
