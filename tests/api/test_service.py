from __future__ import annotations

import json
import time
from pathlib import Path

from fastapi.testclient import TestClient

from api.app import create_app
from core.access import AccessRole
from core.accounts import create_api_key
from core.jobs import JobItemRow, claim_next
from core.store import EvaluationRow, Store
from graphs.qm import build_graph, run_received
from graphs.wiring import build_qm_context, load_small_models
from tests.api.conftest import Api, call


def _wait(api: Api, job_id: str, who: str = "admin_a") -> dict[str, object]:
    for _ in range(200):
        status = api.client.get(f"/jobs/{job_id}", headers=api.headers(who)).json()
        if status["finished"]:
            return status
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish: {status}")


def test_evaluate_returns_the_documented_contract(api: Api) -> None:
    response = api.client.post("/evaluate", json=call("c-1", "上海分行", "A101"), headers=api.headers("qa_sh"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversation_id"] == "c-1" and body["tenant"] == "bank-a" and body["auto_failed"] is True
    assert any(f["code"] == "C03" and f["verdict"] == "fail" for f in body["findings"])
    assert body["tickets"] and response.headers["X-Request-ID"]
    again = api.client.post("/evaluate", json=call("c-1", "上海分行", "A101"), headers=api.headers("qa_sh"))
    assert again.json()["id"] == body["id"]  # idempotent
    dry = api.client.post(
        "/evaluate?dry_run=true", json=call("c-dry", "上海分行", "A101"), headers=api.headers("qa_sh")
    )
    assert dry.status_code == 200
    listed = api.client.get("/conversations", headers=api.headers("qa_sh")).json()
    assert [c["id"] for c in listed] == ["c-1"]


def test_errors_are_problem_json_naming_the_field(api: Api) -> None:
    bad = call("c-bad", "上海分行", "A101")
    bad["turns"][0]["role"] = "robot"  # type: ignore[index]
    response = api.client.post("/evaluate", json=bad, headers=api.headers("qa_sh"))
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["field"] == "turns.0.role" and problem["request_id"]
    malformed = api.client.post(
        "/evaluate",
        content=b'{"id": "x", "turns": [',
        headers={**api.headers("qa_sh"), "Content-Type": "application/json"},
    )
    assert malformed.status_code == 422 and malformed.json()["status"] == 422
    assert api.client.post("/evaluate", json=call("c", "上海分行", "A101")).status_code == 401
    assert api.client.get("/tickets", headers={"X-API-Key": "zj_nope"}).json()["detail"] == "unknown API key"
    huge = api.client.post(
        "/evaluate",
        content=b"x",
        headers={**api.headers("qa_sh"), "Content-Length": str(api.settings.max_request_bytes + 1)},
    )
    assert huge.status_code == 413
    long_call = call("c-long", "上海分行", "A101")
    long_call["turns"] = long_call["turns"] * 2000  # type: ignore[operator]
    assert api.client.post("/evaluate", json=long_call, headers=api.headers("qa_sh")).status_code == 413


def test_batch_job_with_bad_lines_and_results_exactly_once(api: Api) -> None:
    lines = [json.dumps(call(f"j-{i}", "上海分行", "A101", breach=i % 2 == 0), ensure_ascii=False) for i in range(6)]
    lines.insert(2, '{"id": "broken"')
    lines.insert(4, json.dumps(call("j-bj", "北京分行", "A201"), ensure_ascii=False))  # outside qa_sh's branch
    body = "\n".join(lines).encode("utf-8")
    created = api.client.post(
        "/jobs", content=body, headers={**api.headers("qa_sh"), "Content-Type": "application/x-ndjson"}
    )
    assert created.status_code == 202, created.text
    job = created.json()
    assert job["accepted"] == 6 and [r["line"] for r in job["rejected"]] == [3, 5]
    status = _wait(api, job["job_id"], "qa_sh")
    assert status["counts"]["done"] == 6 and all(i["evaluation_id"] for i in status["items"])
    results = api.client.get(f"/jobs/{job['job_id']}/results", headers=api.headers("qa_sh"))
    evaluations = [json.loads(line) for line in results.text.splitlines()]
    assert sorted(e["conversation_id"] for e in evaluations) == [f"j-{i}" for i in range(6)]
    assert api.client.get(f"/jobs/{job['job_id']}", headers=api.headers("admin_b")).status_code == 404


def test_a_crash_mid_job_loses_and_duplicates_nothing(api: Api) -> None:
    settings = api.settings.model_copy(update={"data_dir": api.settings.data_dir.parent / "crash"})
    lines = "\n".join(json.dumps(call(f"k-{i}", "上海分行", "A101"), ensure_ascii=False) for i in range(8))
    store = Store.from_url(settings.resolved_database_url)
    key = create_api_key(store, name="crash", tenant="bank-a", role=AccessRole.ADMIN)[1]
    with TestClient(create_app(settings, start_worker=False)) as first:  # no workers: everything stays queued
        job_id = first.post("/jobs", content=lines.encode(), headers={"X-API-Key": key}).json()["job_id"]
    # The server died while two items were running; one of them had already stored its evaluation.
    interrupted = claim_next(store)
    claim_next(store)
    assert interrupted is not None
    context = build_qm_context(settings, store=store, small_models=load_small_models(settings))
    run_received(build_graph(), context, interrupted[1], interrupted[2])
    with store.session() as s:
        assert s.query(JobItemRow).filter(JobItemRow.status == "running").count() == 2
    with TestClient(create_app(settings)) as restarted:  # start-up re-queues the two and the workers finish all
        for _ in range(400):
            status = restarted.get(f"/jobs/{job_id}", headers={"X-API-Key": key}).json()
            if status["finished"]:
                break
            time.sleep(0.05)
        assert status["counts"] == {"queued": 0, "running": 0, "done": 8, "failed": 0, "cancelled": 0}
        results = restarted.get(f"/jobs/{job_id}/results", headers={"X-API-Key": key}).text.splitlines()
    assert sorted(json.loads(r)["conversation_id"] for r in results) == [f"k-{i}" for i in range(8)]
    with store.session() as s:
        assert s.query(EvaluationRow).count() == 8  # the pre-crash evaluation was reused, not duplicated
    store.engine.dispose()


PII_CALL = {
    **call("pii-1", "上海分行", "A101"),
    "turns": [
        {"role": "agent", "text": "您好，我是安和银行理财经理。", "start": 0.0, "end": 2.0},
        {"role": "customer", "text": "我手机号是13812345678，这个会亏吗？", "start": 2.5, "end": 4.0},
        {"role": "agent", "text": "这款理财保本保收益，稳赚不赔。", "start": 4.5, "end": 8.0},
    ],
}


def test_the_same_call_through_evaluate_and_jobs_is_one_conversation(api: Api) -> None:
    """Before: /jobs hashed the redacted text and /evaluate the raw text: two conversations, evaluations, tickets."""
    direct = api.client.post("/evaluate", json=PII_CALL, headers=api.headers("qa_sh")).json()
    body = json.dumps(PII_CALL, ensure_ascii=False).encode("utf-8")
    job = api.client.post("/jobs", content=body, headers=api.headers("qa_sh")).json()
    _wait(api, job["job_id"], "qa_sh")
    store: Store = api.client.app.state.service.store  # type: ignore[attr-defined]
    with store.session() as s:
        assert s.query(EvaluationRow).filter(EvaluationRow.conversation_id == "pii-1").count() == 1
    [item] = api.client.get(f"/jobs/{job['job_id']}", headers=api.headers("qa_sh")).json()["items"]
    assert item["evaluation_id"] == direct["id"]
    assert [t["evaluation_id"] for t in api.client.get("/tickets", headers=api.headers("qa_sh")).json()] == [
        direct["id"]
    ]
    assert "13812345678" not in json.dumps(direct, ensure_ascii=False)
    assert store.pii_values(tenant="bank-a", conversation_id="pii-1") == {"[手机号#1]": "13812345678"}


def test_poison_items_are_dead_lettered_and_jobs_can_be_cancelled(api: Api) -> None:
    """Before: an interrupted item was re-queued at every start-up, forever; DELETE /jobs was a 405."""
    from core.jobs import requeue_interrupted

    settings = api.settings.model_copy(update={"data_dir": api.settings.data_dir.parent / "poison"})
    store = Store.from_url(settings.resolved_database_url)
    key = create_api_key(store, name="p", tenant="bank-a", role=AccessRole.ADMIN)[1]
    lines = "\n".join(json.dumps(call(f"p-{i}", "上海分行", "A101"), ensure_ascii=False) for i in range(3))
    with TestClient(create_app(settings, start_worker=False)) as client:
        job_id = client.post("/jobs", content=lines.encode(), headers={"X-API-Key": key}).json()["job_id"]
        for restart in range(settings.job_max_attempts):  # the item freezes the process every time it runs
            assert claim_next(store) is not None
            requeued, dead = requeue_interrupted(store, max_attempts=settings.job_max_attempts)
            assert (requeued, dead) == ((1, 0) if restart < settings.job_max_attempts - 1 else (0, 1))
        cancelled = client.delete(f"/jobs/{job_id}", headers={"X-API-Key": key})
        assert cancelled.status_code == 200, cancelled.text
        counts = cancelled.json()["counts"]
        assert counts["failed"] == 1 and counts["cancelled"] == 2 and cancelled.json()["finished"] is True
        [dead_item] = [i for i in cancelled.json()["items"] if i["status"] == "failed"]
        assert "dead letter" in dead_item["error"]
        assert claim_next(store) is None
    store.engine.dispose()


def test_user_tokens_and_ticket_updates(api: Api) -> None:
    api.client.post("/evaluate", json=call("t-1", "上海分行", "A101"), headers=api.headers("admin_a"))
    wrong = api.client.post("/auth/token", data={"username": "li.qa", "password": "nope"})
    assert wrong.status_code == 401
    token = api.client.post("/auth/token", data={"username": "li.qa", "password": "correct horse battery"}).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    [ticket] = api.client.get("/tickets", headers=bearer).json()
    patched = api.client.patch(
        f"/tickets/{ticket['id']}", json={"status": "in_progress", "comment": "已约谈坐席"}, headers=bearer
    )
    assert patched.status_code == 200 and patched.json()["status"] == "in_progress"
    assert patched.json()["comments"][0]["author"] == "user:li.qa"
    assert (
        api.client.get("/tickets?status=in_progress", headers=api.headers("agent_101")).json()[0]["id"] == ticket["id"]
    )
    assert api.client.get("/tickets", headers={"Authorization": "Bearer not-a-jwt"}).status_code == 401
    assert api.client.get("/healthz").json() == {"status": "ok"}
    assert api.client.get("/readyz").json()["status"] == "ready"


def test_scorecards_as_data_validated_versioned_and_used(api: Api) -> None:
    from core.settings import PACKAGED_RULE_PACK

    source = PACKAGED_RULE_PACK.read_text(encoding="utf-8").replace("name: retail_banking", "name: strict_pack")
    source = source.replace("ticket_below_total: 85", "ticket_below_total: 99")
    admin = {**api.headers("admin_a"), "Content-Type": "application/yaml"}
    saved = api.client.post("/scorecards", content=source.encode(), headers=admin)
    assert (
        saved.status_code == 201
        and saved.json()["created"] is True
        and saved.json()["rules"] == source.count("\n  - id: ")
    )
    again = api.client.put("/scorecards/strict_pack", content=source.encode(), headers=admin)
    assert again.status_code == 200 and again.json()["created"] is False  # same text: same version
    broken = source.replace("code: C03", "code: Z99", 1)
    problem = api.client.put("/scorecards/strict_pack", content=broken.encode(), headers=admin)
    assert problem.status_code == 422 and "code" in problem.json()["detail"] and "Z99" in problem.json()["detail"]
    wrong_name = api.client.put("/scorecards/other", content=source.encode(), headers=admin)
    assert wrong_name.status_code == 422
    assert api.client.post("/scorecards", content=source.encode(), headers=api.headers("qa_sh")).status_code == 403
    listed = api.client.get("/scorecards", headers=api.headers("qa_sh")).json()
    assert listed["default"]["name"] == "retail_banking" and listed["stored"][0]["name"] == "strict_pack"
    assert api.client.get("/scorecards/strict_pack", headers=api.headers("admin_b")).status_code == 404  # tenant's own
    evaluated = api.client.post(
        "/evaluate?scorecard=strict_pack",
        json=call("sc-1", "上海分行", "A101", breach=False),
        headers=api.headers("qa_sh"),
    ).json()
    assert evaluated["rule_pack"] == "strict_pack" and evaluated["rule_pack_version"] == saved.json()["version"]
    missing = api.client.post(
        "/evaluate?scorecard=nope", json=call("sc-2", "上海分行", "A101"), headers=api.headers("qa_sh")
    )
    assert missing.status_code == 404
    # Before: a pack whose failing example actually passes was accepted (201).
    lying = source.replace("name: strict_pack", "name: lying_pack").replace(
        "坐席：您放心，这款产品保本保收益，稳赚不赔。", "坐席：您放心，这款产品风险等级R2，有亏损可能。", 1
    )
    refused = api.client.post("/scorecards", content=lying.encode(), headers=admin)
    assert refused.status_code == 422 and "WS-NO-GUARANTEE" in refused.json()["detail"], refused.text


def test_evaluate_a_recording_upload(api: Api, recordings: dict[str, Path]) -> None:
    api.client.app.state.service.settings = api.settings.model_copy(update={"asr_language": "en"})  # type: ignore[attr-defined]
    with recordings["call"].open("rb") as f:
        response = api.client.post(
            "/evaluate/recording?dry_run=true",
            files={"recording": ("call.wav", f, "audio/wav")},
            data={"branch": "上海分行", "agent_id": "A101", "scenario": "service"},
            headers=api.headers("qa_sh"),
        )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conversation_id"] == "call" and body["tenant"] == "bank-a"
    silence = next(f for f in body["findings"] if f["rule_id"] == "SV-SILENCE")
    assert silence["verdict"] == "fail" and silence["evidence"][-1]["start"] > 20
    with recordings["corrupt"].open("rb") as f:
        bad = api.client.post(
            "/evaluate/recording", files={"recording": ("bad.wav", f, "audio/wav")}, headers=api.headers("qa_sh")
        )
    assert bad.status_code == 422 and "bad.wav: cannot decode" in bad.json()["detail"]
    with recordings["call"].open("rb") as f:
        outside = api.client.post(
            "/evaluate/recording",
            files={"recording": ("call.wav", f, "audio/wav")},
            data={"branch": "北京分行"},
            headers=api.headers("qa_sh"),
        )
    assert outside.status_code == 403
    # The same recording twice is one evaluation (fingerprinted by its bytes, found before transcribing again).
    stored = []
    for _ in range(2):
        with recordings["call"].open("rb") as f:
            stored.append(
                api.client.post(
                    "/evaluate/recording",
                    files={"recording": ("call.wav", f, "audio/wav")},
                    data={"branch": "上海分行", "agent_id": "A101", "scenario": "service"},
                    headers=api.headers("qa_sh"),
                ).json()
            )
    assert stored[0]["id"] == stored[1]["id"] and stored[0]["total"] == stored[1]["total"]
    store: Store = api.client.app.state.service.store  # type: ignore[attr-defined]
    with store.session() as s:
        assert s.query(EvaluationRow).filter(EvaluationRow.conversation_id == "call").count() == 1
