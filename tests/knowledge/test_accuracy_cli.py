"""The accuracy benchmark's command line: it must never run the protocol (held-out part included) on an option it
does not know — `--help` used to be ignored and run everything, printing held-out figures to tuning sessions."""

from __future__ import annotations

import importlib.util
import sys
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "accuracy.py"


@cache
def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("accuracy_benchmark", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(("argv", "code"), [(["--help"], 0), (["--dev-only", "--bogus"], 2), (["--model"], 2)])
def test_help_and_unknown_options_stop_before_measuring(argv: list[str], code: int) -> None:
    with pytest.raises(SystemExit) as stopped:
        _benchmark().main(argv)
    assert stopped.value.code == code


def test_the_known_options_are_read() -> None:
    options = _benchmark().arguments(["--dev-only", "--errors", "--skip-writers", "G,H", "--model", "/tmp/m"])
    read = (options.dev_only, options.errors, options.skip_writers, options.model)
    assert read == (True, True, "G,H", Path("/tmp/m"))
