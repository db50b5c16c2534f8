"""Every route × role × scope (own subtree, sibling branch, other tenant): no record leaks, no write escapes.

Expected visibility is written out by hand here, not derived from the code under test.
"""

from __future__ import annotations

import json

import pytest

from tests.api.conftest import PRINCIPALS, Api, call

# conversation id → (creator key, branch, agent)
RECORDS = {
    "sh-101": ("admin_a", "上海分行", "A101"),
    "sh-102": ("admin_a", "上海分行", "A102"),
    "bj-201": ("admin_a", "北京分行", "A201"),
    "b-301": ("admin_b", "深圳分行", "A301"),
}
VISIBLE = {
    "admin_a": {"sh-101", "sh-102", "bj-201"},
    "qa_sh": {"sh-101", "sh-102"},
    "reviewer_bj": {"bj-201"},
    "coach_sh": {"sh-101", "sh-102"},
    "agent_101": {"sh-101"},
    "admin_b": {"b-301"},
}
CAN_UPDATE_TICKETS = {"admin_a", "qa_sh", "reviewer_bj", "agent_101", "admin_b"}
CAN_EVALUATE = {"admin_a", "qa_sh", "admin_b"}


@pytest.fixture
def seeded(api: Api) -> tuple[Api, dict[str, dict[str, str]]]:
    ids: dict[str, dict[str, str]] = {}
    for cid, (creator, branch, agent) in RECORDS.items():
        body = api.client.post("/evaluate", json=call(cid, branch, agent), headers=api.headers(creator)).json()
        ids[cid] = {"evaluation": body["id"], "ticket": body["tickets"][0]["id"]}
    return api, ids


def test_reads_never_leak(seeded: tuple[Api, dict[str, dict[str, str]]]) -> None:
    api, ids = seeded
    leaks = []
    for who in PRINCIPALS:
        headers = api.headers(who)
        listed = {c["id"] for c in api.client.get("/conversations?limit=500", headers=headers).json()}
        tickets = {t["conversation_id"] for t in api.client.get("/tickets?limit=500", headers=headers).json()}
        for name, seen in (("conversations", listed), ("tickets", tickets)):
            if seen != VISIBLE[who]:
                leaks.append(f"{who} {name}: got {sorted(seen)}, expected {sorted(VISIBLE[who])}")
        for cid, record in ids.items():
            status = api.client.get(f"/evaluations/{record['evaluation']}", headers=headers).status_code
            expected = 200 if cid in VISIBLE[who] else 404
            if status != expected:
                leaks.append(f"{who} GET /evaluations of {cid}: {status}, expected {expected}")
    assert leaks == []


def test_ticket_writes_stay_in_scope(seeded: tuple[Api, dict[str, dict[str, str]]]) -> None:
    api, ids = seeded
    wrong = []
    for who in PRINCIPALS:
        for cid, record in ids.items():
            response = api.client.patch(
                f"/tickets/{record['ticket']}", json={"comment": f"{who} was here"}, headers=api.headers(who)
            )
            expected = 403 if who not in CAN_UPDATE_TICKETS else (200 if cid in VISIBLE[who] else 404)
            if response.status_code != expected:
                wrong.append(f"{who} PATCH ticket of {cid}: {response.status_code}, expected {expected}")
    assert wrong == []


@pytest.mark.parametrize("who", list(PRINCIPALS))
def test_evaluate_only_into_own_tenant_and_subtree(api: Api, who: str) -> None:
    tenant = PRINCIPALS[who][0]
    own_branch = PRINCIPALS[who][2].get("branch", "上海分行" if tenant == "bank-a" else "深圳分行")
    sibling = "北京分行" if own_branch == "上海分行" else "上海分行"
    cases = {
        "own": (call(f"{who}-own", own_branch, "A101"), 200 if who in CAN_EVALUATE else 403),
        "sibling": (call(f"{who}-sib", sibling, "A101"), 403 if who != "admin_a" and who != "admin_b" else 200),
        "other tenant": ({**call(f"{who}-x", own_branch, "A101"), "tenant": "bank-z"}, 403),
    }
    for scope, (body, expected) in cases.items():
        if who not in CAN_EVALUATE:
            expected = 403
        status = api.client.post("/evaluate", json=body, headers=api.headers(who)).status_code
        assert status == expected, f"{who} evaluate {scope}: {status}, expected {expected}"


def test_jobs_are_private_to_their_creator_and_tenant_admins(api: Api) -> None:
    body = json.dumps(call("job-1", "上海分行", "A101")).encode()
    job = api.client.post("/jobs", content=body, headers=api.headers("qa_sh")).json()["job_id"]
    expected = {"admin_a": 200, "qa_sh": 200, "reviewer_bj": 404, "coach_sh": 404, "agent_101": 404, "admin_b": 404}
    got = {who: api.client.get(f"/jobs/{job}", headers=api.headers(who)).status_code for who in PRINCIPALS}
    assert got == expected
    for who in ("reviewer_bj", "coach_sh", "agent_101"):
        assert api.client.post("/jobs", content=b"{}", headers=api.headers(who)).status_code == 403
