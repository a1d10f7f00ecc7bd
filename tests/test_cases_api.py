"""The case workflow over real HTTP on SQLite and PostgreSQL: every allowed transition and every
forbidden one (409 with the allowed actions), audit rows, the case in the submission's view, and
officers kept to their agencies' cases."""

from __future__ import annotations

from itertools import count

import httpx
import pytest
from sqlalchemy import select

from civicpulse.domain import Role
from civicpulse.store.tables import AuditRow
from tests.conftest import LiveServer

ACTIONS = ("accept", "assign", "start", "transfer", "answer", "close", "reopen")
ALLOWED = {
    "received": {"accept": "received>accepted", "transfer": "received", "close": "closed"},
    "accepted": {"assign": "assigned", "answer": "answered", "transfer": "received"},
    "assigned": {"assign": "assigned", "start": "in_progress", "answer": "answered", "transfer": "received"},
    "in_progress": {"assign": "assigned", "answer": "answered", "transfer": "received"},
    "answered": {"close": "closed", "reopen": "in_progress"},
    "closed": {"reopen": "in_progress"},
    "merged": {},
}
PATHS = {
    "received": [],
    "accepted": ["accept"],
    "assigned": ["accept", "assign"],
    "in_progress": ["accept", "assign", "start"],
    "answered": ["accept", "answer"],
    "closed": ["accept", "answer", "close"],
}
BODIES = {
    "accept": {},
    "assign": {},
    "start": {},
    "transfer": {"agency": "so-xd", "reason": "Nội dung thuộc thẩm quyền Sở Xây dựng"},
    "answer": {"answer": "Sở đã cử đoàn kiểm tra và khắc phục ngày 3/3."},
    "close": {"reason": "Công dân đã nhận trả lời"},
    "reopen": {"reason": "Công dân báo chưa được giải quyết"},
}
OPEN311_STATUS = {
    "received": "open",
    "accepted": "in_progress",
    "assigned": "in_progress",
    "in_progress": "in_progress",
    "answered": "in_progress",
    "closed": "closed",
    "merged": "closed",
}
_texts = count()


def new_submission(client: httpx.Client, service_code: str = "health") -> int:
    text = f"Trạm y tế phường đóng cửa giờ hành chính, lần {next(_texts)}"
    response = client.post("/api/v1/submissions", json={"text": text, "service_code": service_code})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def act(client: httpx.Client, submission_id: int, action: str, **extra: object) -> httpx.Response:
    return client.post(
        f"/api/v1/submissions/{submission_id}/case", json={"action": action, **BODIES[action], **extra}
    )


def case_in(client: httpx.Client, state: str) -> int:
    """A submission whose case is in ``state``."""
    submission_id = new_submission(client)
    for step in PATHS[state]:
        response = act(client, submission_id, step)
        assert response.status_code == 200, response.text
    return submission_id


def state_of(client: httpx.Client, submission_id: int) -> dict:
    response = client.get(f"/api/v1/submissions/{submission_id}")
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize("state", [s for s in ALLOWED if s != "merged"])
def test_forbidden_transitions_get_409_with_the_allowed_ones(live_server: LiveServer, state: str) -> None:
    with live_server.client() as client:
        submission_id = case_in(client, state)
        before = state_of(client, submission_id)["case"]
        for action in ACTIONS:
            if action in ALLOWED[state]:
                continue
            response = act(client, submission_id, action)
            assert response.status_code == 409, (state, action, response.text)
            error = response.json()["error"]
            assert error["code"] == "conflict"
            assert error["details"]["state"] == state
            assert error["details"]["allowed"] == [a for a in ACTIONS if a in ALLOWED[state]]
        assert state_of(client, submission_id)["case"] == before


@pytest.mark.parametrize("state", [s for s in ALLOWED if s != "merged"])
def test_every_allowed_transition_moves_the_case_and_is_audited(live_server: LiveServer, state: str) -> None:
    for action, target in ALLOWED[state].items():
        target = target.split(">")[-1]
        with live_server.client() as client:
            submission_id = case_in(client, state)
            response = act(client, submission_id, action)
            assert response.status_code == 200, (action, response.text)
            case = response.json()
            assert case["status"] == target
            assert case["allowed_actions"] == [a for a in ACTIONS if a in ALLOWED[target]]
            shown = state_of(client, submission_id)
        assert shown["case"]["status"] == target
        assert shown["case"]["id"] == case["id"]
        assert shown["status"] == OPEN311_STATUS[target]
        assert shown["case"]["agency"] == shown["agency"] == ("so-xd" if action == "transfer" else "so-yt")
        with live_server.db.read() as session:
            rows = session.scalars(
                select(AuditRow).where(
                    AuditRow.action == f"case.{action}", AuditRow.target == f"case:{case['id']}"
                )
            ).all()
        last = rows[-1]
        assert last.actor == "admin@example.org"
        assert (last.detail["from"], last.detail["to"]) == (state, target)
        if "reason" in BODIES[action]:
            assert last.detail["reason"] == BODIES[action]["reason"]


def test_a_merged_case_takes_no_further_step(live_server: LiveServer) -> None:
    with live_server.client() as client:
        source = new_submission(client)
        source_case = act(client, source, "accept").json()["id"]
        target = new_submission(client)
        target_case = act(client, target, "accept").json()["id"]
        response = client.post(
            f"/api/v1/cases/{target_case}/merge", json={"submissions": [source], "reason": "trùng nội dung"}
        )
        assert response.status_code == 200, response.text
        merged = client.get(f"/api/v1/cases/{source_case}").json()
        assert (merged["status"], merged["merged_into"], merged["submissions"]) == ("merged", target_case, [])
        assert merged["allowed_actions"] == [] and merged["sla_state"] is None
        for route in ("merge", "split"):
            refused = client.post(
                f"/api/v1/cases/{source_case}/{route}", json={"submissions": [target], "reason": "x"}
            )
            assert refused.status_code == 409, refused.text
            assert refused.json()["error"]["details"] == {"state": "merged", "action": route, "allowed": []}
        assert state_of(client, source)["case"]["id"] == target_case
    with live_server.db.read() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "case.merge")).one()
    assert audit.target == f"case:{source_case}" and audit.detail["into"] == target_case


def test_a_declined_case_reopens_as_received(live_server: LiveServer) -> None:
    with live_server.client() as client:
        submission_id = new_submission(client)
        assert act(client, submission_id, "close").json()["status"] == "closed"
        assert act(client, submission_id, "reopen").json()["status"] == "received"


def test_the_submission_view_holds_its_case_and_clock(live_server: LiveServer) -> None:
    with live_server.client() as client:
        submission_id = new_submission(client)
        assert state_of(client, submission_id)["case"] is None
        assert client.get(f"/api/v1/submissions/{submission_id}/case").status_code == 404
        accepted = act(client, submission_id, "accept", note="Đã gọi điện cho trạm y tế").json()
        case = state_of(client, submission_id)["case"]
        listed = client.get("/api/v1/submissions", params={"limit": 5}).json()["items"]
    assert set(case) == {"id", "status", "agency", "due_at", "sla_state"}
    assert case["status"] == "accepted" and case["agency"] == "so-yt" and case["sla_state"] == "on_track"
    assert case["due_at"] == accepted["answer_due_at"] != accepted["accept_due_at"]
    assert accepted["notes"][0]["text"] == "Đã gọi điện cho trạm y tế"
    assert next(item for item in listed if item["id"] == submission_id)["case"] == case


@pytest.mark.parametrize(
    ("steps", "body", "message"),
    [
        ([], {"action": "transfer", "agency": "so-xd"}, "reason"),
        ([], {"action": "transfer", "reason": "x"}, "agency"),
        ([], {"action": "transfer", "agency": "no-such-agency", "reason": "x"}, "not in the directory"),
        ([], {"action": "transfer", "agency": "so-yt", "reason": "x"}, "already held"),
        ([], {"action": "accept", "agency": "so-xd"}, "transfer"),
        ([], {"action": "close"}, "reason"),
        (["accept"], {"action": "answer"}, "answer"),
        (["accept", "answer"], {"action": "reopen"}, "reason"),
    ],
)
def test_missing_or_wrong_inputs_get_422_and_change_nothing(
    live_server: LiveServer, steps: list[str], body: dict, message: str
) -> None:
    with live_server.client() as client:
        submission_id = new_submission(client)
        for step in steps:
            act(client, submission_id, step)
        before = state_of(client, submission_id)["case"]
        response = client.post(f"/api/v1/submissions/{submission_id}/case", json=body)
        assert response.status_code == 422, response.text
        assert message in response.json()["error"]["message"]
        assert state_of(client, submission_id)["case"] == before


def test_unknown_actions_and_submissions_are_clear_errors(live_server: LiveServer) -> None:
    with live_server.client() as client:
        submission_id = new_submission(client)
        assert (
            client.post(f"/api/v1/submissions/{submission_id}/case", json={"action": "approve"}).status_code
            == 422
        )
        assert client.post("/api/v1/submissions/999999/case", json={"action": "accept"}).status_code == 404


def test_officers_see_and_act_on_their_agencies_cases_only(live_server: LiveServer) -> None:
    health = live_server.user_token("yte@example.org", Role.agency_officer, ("so-yt",))
    building = live_server.user_token("xaydung@example.org", Role.agency_officer, ("so-xd",))
    viewer = live_server.user_token("viewer@example.org", Role.viewer)
    with live_server.client() as admin:
        submission_id = new_submission(admin)
    with live_server.client(building) as other:
        assert other.get(f"/api/v1/submissions/{submission_id}").status_code == 403
        assert act(other, submission_id, "accept").status_code == 403
        assert other.get(f"/api/v1/submissions/{submission_id}/case").status_code == 404  # no case yet
    with live_server.client(health) as own:
        case = act(own, submission_id, "accept").json()
        assert own.get(f"/api/v1/cases/{case['id']}").json()["allowed_actions"]
        assert [c["id"] for c in own.get("/api/v1/cases").json()] == [case["id"]]
    with live_server.client(building) as other:
        assert other.get(f"/api/v1/submissions/{submission_id}").status_code == 403
        assert other.get(f"/api/v1/submissions/{submission_id}/case").status_code == 403
        assert other.get(f"/api/v1/cases/{case['id']}").status_code == 403
        assert act(other, submission_id, "answer").status_code == 403
        assert case["id"] not in [c["id"] for c in other.get("/api/v1/cases").json()]
        assert other.post(f"/api/v1/cases/{case['id']}/notes", json={"text": "x"}).status_code == 403
    with live_server.client(viewer) as reader:
        assert act(reader, submission_id, "answer").status_code == 403
        assert reader.get(f"/api/v1/cases/{case['id']}").json()["notes"] == []
    with live_server.client(health) as own:
        assert act(own, submission_id, "transfer").status_code == 200
        assert own.get(f"/api/v1/cases/{case['id']}").status_code == 403
    with live_server.client(building) as other:
        assert act(other, submission_id, "accept").json()["agency"] == "so-xd"
    with live_server.db.read() as session:
        denied = session.scalars(select(AuditRow).where(AuditRow.status == 403)).all()
    assert denied  # refused calls are in the audit log too


def test_merge_and_split_keep_one_case_for_many_senders(live_server: LiveServer) -> None:
    with live_server.client() as client:
        lead, *others = (new_submission(client) for _ in range(4))
        case = act(client, lead, "accept").json()
        merged = client.post(
            f"/api/v1/cases/{case['id']}/merge",
            json={"submissions": others, "reason": "chiến dịch cùng nội dung"},
        ).json()
        assert merged["submissions"] == sorted([lead, *others])
        assert {state_of(client, s)["case"]["id"] for s in others} == {case["id"]}
        assert all(state_of(client, s)["case"]["status"] == "accepted" for s in others)
        part = client.post(
            f"/api/v1/cases/{case['id']}/split", json={"submissions": others[:1], "reason": "nội dung khác"}
        )
        assert part.status_code == 201, part.text
        split = part.json()
        assert split["submissions"] == others[:1]
        assert (split["status"], split["due_at"]) == (merged["status"], merged["due_at"])
        assert client.get(f"/api/v1/cases/{case['id']}").json()["submissions"] == sorted([lead, *others[1:]])
        everything = client.post(
            f"/api/v1/cases/{case['id']}/split", json={"submissions": [lead, *others[1:]], "reason": "x"}
        )
        assert everything.status_code == 422


def test_agencies_are_listed_and_written_by_admins(live_server: LiveServer) -> None:
    officer = live_server.user_token("yte2@example.org", Role.agency_officer, ("so-yt",))
    body = {
        "code": "ubnd-p-hoan-kiem",
        "name_vi": "Ủy ban nhân dân phường Hoàn Kiếm",
        "name_en": "Hoan Kiem Ward People's Committee",
        "kind": "commune_committee",
        "parent": "vp-ubnd",
        "provinces": ["01"],
        "communes": ["00070"],
        "topics": ["land"],
        "email": "ubnd.hoankiem@hanoi.example",
        "days_off": ["2026-03-02"],
    }
    with live_server.client() as admin:
        listed = admin.get("/api/v1/agencies").json()
        assert {a["code"]: a["source"] for a in listed}["so-yt"] == "taxonomy"
        assert admin.put(f"/api/v1/agencies/{body['code']}", json=body).status_code == 200
        assert admin.get(f"/api/v1/agencies/{body['code']}").json()["days_off"] == ["2026-03-02"]
        bad = admin.put(f"/api/v1/agencies/{body['code']}", json={**body, "communes": ["20242"]})
        assert bad.status_code == 422 and "not in its provinces" in bad.json()["error"]["message"]
        loop = admin.put("/api/v1/agencies/vp-ubnd", json={**body, "code": "vp-ubnd", "parent": body["code"]})
        assert loop.status_code == 422 and "lead back" in loop.json()["error"]["message"]
        referred = admin.delete("/api/v1/agencies/vp-ubnd")  # ubnd-p-hoan-kiem escalates to it
        assert referred.status_code == 409 and "ubnd-p-hoan-kiem" in referred.json()["error"]["message"]
        assert admin.delete("/api/v1/agencies/so-ct").status_code == 404  # only in the taxonomy
    with live_server.client(officer) as client:
        assert client.get("/api/v1/agencies").status_code == 200
        assert client.put(f"/api/v1/agencies/{body['code']}", json=body).status_code == 403
    with live_server.client() as admin:
        assert admin.delete(f"/api/v1/agencies/{body['code']}").status_code == 204
        assert admin.get(f"/api/v1/agencies/{body['code']}").status_code == 404
