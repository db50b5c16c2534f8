"""Over HTTP: who may start, continue and read practice sessions (scoped like every other record)."""

from __future__ import annotations

from tests.api.conftest import Api, call
from tests.api.conftest import api as api
from tests.coach.conftest import POOL_SCENARIOS
from tools.coaching.pool import PoolProvider, VectorCache


def _install_sessions(api: Api, vectors: VectorCache) -> None:
    """The server's coach sessions, with the test session's shared line vectors (nothing embedded twice)."""
    from graphs.coach import PracticeSessions, build_coach_context, build_graph
    from graphs.wiring import open_sqlite_checkpointer

    app = api.client.app
    service = app.state.service  # type: ignore[attr-defined]
    pools = PoolProvider(service.store, vectors, labelled_scenarios=POOL_SCENARIOS)
    checkpointer = open_sqlite_checkpointer(api.settings.resolved_checkpoint_path)
    context = build_coach_context(api.settings, service.store, pools=pools)
    app.state.coach = PracticeSessions(build_graph(checkpointer=checkpointer), context)  # type: ignore[attr-defined]


def test_an_agent_cannot_open_or_read_another_agents_session(api: Api, shared_vectors: VectorCache) -> None:
    for cid, agent in (("P1", "A101"), ("P2", "A102")):
        response = api.client.post("/evaluate", json=call(cid, "上海分行", agent), headers=api.headers("admin_a"))
        assert response.status_code == 200, response.text
    _install_sessions(api, shared_vectors)
    client = api.client

    own = client.post("/coach/sessions", json={"agent_id": "A101"}, headers=api.headers("agent_101"))
    assert own.status_code == 201, own.text
    assert own.json()["scenario"]["target_rules"] and own.json()["customer"]
    other = client.post("/coach/sessions", json={"agent_id": "A102"}, headers=api.headers("agent_101"))
    assert other.status_code == 403

    coached = client.post("/coach/sessions", json={"agent_id": "A102"}, headers=api.headers("coach_sh"))
    assert coached.status_code == 201, coached.text
    session = coached.json()["session_id"]
    for method, path, body in (
        ("GET", f"/coach/sessions/{session}", None),
        ("POST", f"/coach/sessions/{session}/turns", {"reply": "您好，我是安和银行理财经理。"}),
        ("POST", f"/coach/sessions/{session}/end", None),
    ):
        denied = client.request(method, path, json=body, headers=api.headers("agent_101"))
        assert denied.status_code == 404, (path, denied.text)
        assert denied.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/coach/sessions/{session}", headers=api.headers("admin_b")).status_code == 404
    assert client.get(f"/coach/sessions/{session}", headers=api.headers("reviewer_bj")).status_code == 404
    assert (
        client.post("/coach/sessions", json={"agent_id": "A101"}, headers=api.headers("reviewer_bj")).status_code == 403
    )

    turn = client.post(
        f"/coach/sessions/{session}/turns",
        json={"reply": "您好，我是安和银行理财经理。"},
        headers=api.headers("coach_sh"),
    )
    assert turn.status_code == 200 and len(turn.json()["feedback"]) == 1
    ended = client.post(f"/coach/sessions/{session}/end", headers=api.headers("coach_sh"))
    assert ended.status_code == 200 and ended.json()["debrief"]["targets"]
    again = client.post(f"/coach/sessions/{session}/turns", json={"reply": "还在吗"}, headers=api.headers("coach_sh"))
    assert again.status_code == 409

    mine = client.get(f"/coach/sessions/{own.json()['session_id']}", headers=api.headers("agent_101"))
    assert mine.status_code == 200
    progress = client.get("/coach/agents/A102/progress", headers=api.headers("agent_101"))
    assert progress.status_code == 200 and progress.json()["sessions"] == []
    assert len(client.get("/coach/agents/A102/progress", headers=api.headers("coach_sh")).json()["sessions"]) == 1
