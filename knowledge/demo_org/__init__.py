"""A demo organisation for the insight agent: several hundred calls of 15 agents in 3 branches over 5 weeks,
composed (deterministically, seeded) from the shared labelled dialogues and the bundled samples, re-identified
with new ids, org paths, dates and outcomes, with two planted patterns:

- agent A017 (上海分行 / 财富营销组) gets the calls in which a stated need is ignored and the script recited
  (labelled B02/C04) and converts none of its sales calls;
- 广州分行's wealth team gets the calls with guaranteed-return promises and misleading comparisons
  (labelled C03/C05), which mostly convert.

`demo_conversations()` builds the calls; `load_demo_org(settings)` (in `knowledge.demo_org.loader`) evaluates
them into the settings' store.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from core.models import Conversation
from knowledge.samples import SAMPLE_CONVERSATIONS, load_expected_codes
from knowledge.splits import SHARED_DIALOGUES, labelled_records

TENANT = "demo-bank"
HEAD_OFFICE = "安和银行总行"
BRANCHES = {"北京分行": "海淀支行", "上海分行": "浦东支行", "广州分行": "天河支行"}
WEALTH_TEAM = "财富营销组"
SERVICE_TEAM = "客户服务组"
PLANTED_AGENT = "A017"
PLANTED_AGENT_CODES = ("B02", "C04")
MIS_SELLING_BRANCH = "广州分行"
MIS_SELLING_CODES = ("C03", "C05")
CALLS_PER_AGENT = 24
WEEKS = 5
FIRST_MONDAY = datetime(2026, 10, 5, tzinfo=timezone(timedelta(hours=8)))
SEED = 20261012

SALES_SCENARIOS = frozenset({"wealth_sales", "telemarketing", "callback"})
SELLING = frozenset({"wealth_sales", "telemarketing"})


@dataclass(frozen=True)
class DemoAgent:
    agent_id: str
    branch: str
    team: str


def demo_agents() -> list[DemoAgent]:
    """Five agents per branch: three in the wealth team, two in customer service."""
    agents = []
    number = 11
    for branch in BRANCHES:
        for team, size in ((WEALTH_TEAM, 3), (SERVICE_TEAM, 2)):
            for _ in range(size):
                agents.append(DemoAgent(f"A{number:03d}", branch, team))
                number += 1
    return agents


def source_records(shared: Path = SHARED_DIALOGUES) -> list[dict[str, Any]]:
    """The raw records the demo is composed from: the shared labelled sets (when present) and the samples,
    each with a `codes` list (its labels or expected codes)."""
    records = []
    for record in labelled_records(folder=shared):
        records.append({**record, "codes": sorted({label["code"] for label in record.get("labels", [])})})
    expected = load_expected_codes()
    for line in SAMPLE_CONVERSATIONS.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            records.append({**record, "codes": sorted(expected.get(record["id"], set()))})
    return records


@dataclass(frozen=True)
class Pools:
    need_ignoring: list[dict[str, Any]]
    mis_selling: list[dict[str, Any]]
    clean_sales: list[dict[str, Any]]
    service: list[dict[str, Any]]


def pools(records: list[dict[str, Any]]) -> Pools:
    """Source calls by the role they play in the demo."""
    planted, mis = set(PLANTED_AGENT_CODES), set(MIS_SELLING_CODES)
    sales = [r for r in records if r.get("scenario") in SALES_SCENARIOS]
    return Pools(
        need_ignoring=[r for r in sales if planted & set(r["codes"]) and not mis & set(r["codes"])],
        mis_selling=[r for r in sales if mis & set(r["codes"])],
        clean_sales=[r for r in sales if not (planted | mis) & set(r["codes"])],
        service=[r for r in records if r.get("scenario") not in SALES_SCENARIOS],
    )


def _draw(pool: list[dict[str, Any]], count: int, rng: random.Random) -> list[dict[str, Any]]:
    """`count` records cycling through a shuffled copy of the pool (each used as evenly as possible)."""
    if not pool:
        return []
    order = pool[:]
    rng.shuffle(order)
    return [order[i % len(order)] for i in range(count)]


def _plan(agent: DemoAgent, pool: Pools, rng: random.Random) -> list[tuple[dict[str, Any], str]]:
    """The agent's source calls, each tagged with the pattern it plays."""
    if agent.team == SERVICE_TEAM:
        return [(r, "service") for r in _draw(pool.service, CALLS_PER_AGENT, rng)]
    if agent.agent_id == PLANTED_AGENT:
        ignoring = _draw(pool.need_ignoring, 18, rng)
        return [(r, "need_ignoring") for r in ignoring] + [
            (r, "planted_clean") for r in _draw(pool.clean_sales, CALLS_PER_AGENT - len(ignoring), rng)
        ]
    if agent.branch == MIS_SELLING_BRANCH:
        selling = _draw(pool.mis_selling, 12, rng)
        return [(r, "mis_selling") for r in selling] + [
            (r, "clean") for r in _draw(pool.clean_sales, CALLS_PER_AGENT - len(selling), rng)
        ]
    return [(r, "clean") for r in _draw(pool.clean_sales, CALLS_PER_AGENT, rng)]


def _outcome(record: dict[str, Any], pattern: str, rng: random.Random) -> dict[str, Any]:
    source = record.get("outcome") or {}
    converted, csat = source.get("converted"), source.get("csat")
    if record.get("scenario") in SELLING:
        if pattern in ("need_ignoring", "planted_clean"):
            converted = False
        elif pattern == "mis_selling":
            converted = rng.random() < 0.85
        elif converted is None:
            converted = rng.random() < 0.55
    if pattern in ("need_ignoring", "planted_clean"):
        csat = csat if csat is not None and csat <= 3 else rng.choice([2, 3])
    elif csat is None and rng.random() < 0.6:
        csat = rng.choice([3, 4, 4, 5, 5])
    return {"converted": converted, "csat": csat}


def demo_conversations(shared: Path = SHARED_DIALOGUES, seed: int = SEED) -> Iterator[Conversation]:
    """The demo organisation's calls, always the same for the same sources and seed."""
    rng = random.Random(seed)
    pool = pools(source_records(shared))
    for agent in demo_agents():
        for k, (record, pattern) in enumerate(_plan(agent, pool, rng)):
            week = k % WEEKS
            started = FIRST_MONDAY + timedelta(
                days=7 * week + rng.randrange(5), hours=9 + rng.randrange(9), minutes=rng.randrange(60)
            )
            yield Conversation.model_validate(
                {
                    **{key: value for key, value in record.items() if key not in ("labels", "codes")},
                    "id": f"DB-{agent.agent_id}-{k + 1:02d}",
                    "tenant": TENANT,
                    "head_office": HEAD_OFFICE,
                    "branch": agent.branch,
                    "sub_branch": BRANCHES[agent.branch],
                    "team": agent.team,
                    "agent_id": agent.agent_id,
                    "started_at": started.isoformat(),
                    "outcome": _outcome(record, pattern, rng),
                    "notes": [f"demo organisation: composed from {record['id']} ({pattern})"],
                }
            )
