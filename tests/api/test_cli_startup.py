"""`zhijian rules` starts without the evaluation, coach, insight and knowledge-base stacks; the commands defined in
other modules are still all there."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer import _click as click
from typer.core import TyperGroup
from typer.main import get_command

from api.cli import COMMANDS_ELSEWHERE, app

HEAVY = ("langgraph", "qdrant_client", "llama_index", "api.coach_cli", "api.insight_cli", "api.kb_cli", "graphs")

PROBE = """
import json, sys
from typer.testing import CliRunner
from api.cli import app
result = CliRunner().invoke(app, ["rules", "--no-verify"])
heavy = sorted({m for m in sys.modules for h in json.loads(sys.argv[1]) if m == h or m.startswith(h + ".")})
print(json.dumps({"exit": result.exit_code, "table": " rules" in result.stdout, "heavy": heavy}))
"""


def test_rules_imports_no_heavy_stack() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY)], capture_output=True, text=True, check=True, timeout=120
    )
    outcome = json.loads(probe.stdout.strip().splitlines()[-1])
    assert outcome["exit"] == 0 and outcome["table"]
    assert outcome["heavy"] == []


@pytest.mark.parametrize("name", sorted(COMMANDS_ELSEWHERE))
def test_every_command_elsewhere_loads(name: str) -> None:
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    with click.Context(group) as ctx:
        assert name in group.list_commands(ctx)
        command = group.get_command(ctx, name)
    assert command is not None and command.name == name
