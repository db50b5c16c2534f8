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


# The ticket workflow by role, written out by hand: (from, to) → roles that may make the move.
SUPERVISORS = {"admin", "qa_lead", "reviewer"}
MOVES = {
    ("open", "acknowledged"): SUPERVISORS | {"agent"},
    ("open", "in_progress"): SUPERVISORS,
    ("acknowledged", "in_progress"): SUPERVISORS,
    ("acknowledged", "remediation_submitted"): {"admin", "agent"},
    ("in_progress", "remediation_submitted"): {"admin", "agent"},
    **{(s, "resolved"): SUPERVISORS for s in ("open", "acknowledged", "in_progress", "remediation_submitted")},
    **{(s, "dismissed"): SUPERVISORS for s in ("open", "acknowledged", "in_progress", "remediation_submitted")},
    ("remediation_submitted", "open"): SUPERVISORS,
    ("resolved", "open"): SUPERVISORS,
    ("dismissed", "open"): SUPERVISORS,
}
STATUSES = ("open", "acknowledged", "in_progress", "remediation_submitted", "resolved", "dismissed")
# One principal per role, all able to see the Shanghai ticket of agent A101.
BY_ROLE = {"admin": "admin_a", "qa_lead": "qa_sh", "coach": "coach_sh", "agent": "agent_101"}
ROUTE_TO = {  # how the test brings a fresh ticket to a status (as admin, who may make every move)
    "open": [],
    "acknowledged": ["acknowledged"],
    "in_progress": ["in_progress"],
    "remediation_submitted": ["acknowledged", "remediation_submitted"],
    "resolved": ["resolved"],
    "dismissed": ["dismissed"],
}


def test_every_ticket_transition_by_every_role(api: Api) -> None:
    """Each (from, to) pair × role: 200 when the workflow allows it, 403 naming move and role when the role may not,
    409 when no such transition exists; the stored status follows only the allowed moves."""
    wrong = []
    n = 0
    for current in STATUSES:
        for target in STATUSES:
            if target == current:
                continue
            for role, who in BY_ROLE.items():
                n += 1
                cid = f"t-{n}"
                body = api.client.post(
                    "/evaluate", json=call(cid, "上海分行", "A101"), headers=api.headers("admin_a")
                ).json()
                ticket = body["tickets"][0]["id"]
                for step in ROUTE_TO[current]:
                    moved = api.client.patch(
                        f"/tickets/{ticket}", json={"status": step, "comment": "准备"}, headers=api.headers("admin_a")
                    )
                    assert moved.status_code == 200, moved.text
                response = api.client.patch(
                    f"/tickets/{ticket}", json={"status": target, "comment": "已处理"}, headers=api.headers(who)
                )
                if role == "coach":
                    expected = 403  # coaches only read
                elif (current, target) not in MOVES:
                    expected = 409
                else:
                    expected = 200 if role in MOVES[(current, target)] else 403
                if response.status_code != expected:
                    wrong.append(f"{role} {current}→{target}: {response.status_code}, expected {expected}")
                    continue
                assert response.headers["content-type"] == (
                    "application/json" if expected == 200 else "application/problem+json"
                )
                if expected == 403 and role != "coach":
                    assert role in response.json()["detail"] and target in response.json()["detail"]
                stored = api.client.get("/tickets?status=" + target + "&limit=500", headers=api.headers("admin_a"))
                moved_here = ticket in {t["id"] for t in stored.json()}
                assert moved_here == (expected == 200), f"{role} {current}→{target}: stored status wrong"
    assert wrong == []


def test_a_remediation_needs_a_note_and_an_agent_cannot_dismiss_their_own_ticket(api: Api) -> None:
    body = api.client.post("/evaluate", json=call("own", "上海分行", "A101"), headers=api.headers("qa_sh")).json()
    ticket = body["tickets"][0]["id"]
    agent = api.headers("agent_101")
    dismissed = api.client.patch(f"/tickets/{ticket}", json={"status": "dismissed"}, headers=agent)
    assert dismissed.status_code == 403 and "agent may not dismiss" in dismissed.json()["detail"]
    assert api.client.patch(f"/tickets/{ticket}", json={"status": "acknowledged"}, headers=agent).status_code == 200
    bare = api.client.patch(f"/tickets/{ticket}", json={"status": "remediation_submitted"}, headers=agent)
    assert bare.status_code == 422 and "comment" in bare.json()["detail"]
    noted = api.client.patch(
        f"/tickets/{ticket}", json={"status": "remediation_submitted", "comment": "已复盘话术并重新培训"}, headers=agent
    )
    assert noted.status_code == 200 and noted.json()["comments"][-1]["text"] == "已复盘话术并重新培训"
    resolved = api.client.patch(f"/tickets/{ticket}", json={"status": "resolved"}, headers=api.headers("qa_sh"))
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
