"""Personal data in the fields besides the text (place, source id, attachment names and links) reaches
the handler only, over real HTTP and in exports, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from civicpulse.annotations import PiiOut, PlacesOut, UnitBrief
from civicpulse.domain import Role
from civicpulse.runtime.stages import build_pipeline
from civicpulse.runtime.worker import Worker
from civicpulse.store.export import export_submissions
from civicpulse.store.tables import AnnotationRow, SubmissionRow
from tests.conftest import LiveServer

PHONE = "0977123456"
NAME = "Nguyễn Thị Hoa"
ADDRESS = f"nhà bà {NAME}, SĐT {PHONE}"
DESCRIPTION = "Đường trước nhà bị sụt lún, xe máy đi qua rất nguy hiểm."
SOURCE_ID = f"hotline-{PHONE}"
FILENAME = f"anh-{PHONE}.jpg"
MEDIA_URL = f"https://example.org/u/{PHONE}.jpg"
SECRETS = (PHONE, NAME)
HANDLING_AGENCY = "so-nnmt"  # the agency of the service code "land"
STAGES = ["language", "normalize", "pii", "places"]


def readers(server: LiveServer) -> dict[str, str]:
    """Tokens of everyone who is not the handler of a case of ``HANDLING_AGENCY``."""
    return {
        "analyst": server.user_token("analyst@example.org", Role.analyst),
        "viewer": server.user_token("viewer@example.org", Role.viewer),
        "other_officer": server.user_token("gddt@example.org", Role.agency_officer, ("so-gddt",)),
    }


def handlers(server: LiveServer) -> dict[str, str]:
    """Tokens of the admin and of an officer of the handling agency."""
    officer = server.user_token("nnmt@example.org", Role.agency_officer, (HANDLING_AGENCY,))
    return {"admin": server.admin_token, "officer": officer}


def post_open311(server: LiveServer, description: str = DESCRIPTION, **fields: str) -> str:
    """A service request posted with the admin's key; its public id."""
    data = {"api_key": server.admin_token, "service_code": "land", "description": description, **fields}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = client.post("/open311/v2/requests.json", data=data)
    assert response.status_code == 201, response.text
    return response.json()[0]["service_request_id"]


def post_api(server: LiveServer) -> int:
    """A submission through the REST API with every typed field holding the phone number."""
    body = {
        "text": DESCRIPTION,
        "channel": "hotline",
        "service_code": "land",
        "source_id": SOURCE_ID,
        "locality": ADDRESS,
        "attachments": [{"filename": FILENAME, "url": MEDIA_URL}, {"filename": "so-do.png"}],
    }
    with server.client() as client:
        response = client.post("/api/v1/submissions", json=body)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def submission_ids(server: LiveServer) -> list[int]:
    with server.db.read() as session:
        return sorted(session.scalars(select(SubmissionRow.id)))


def public_pages(server: LiveServer, codes: list[str]) -> list[httpx.Response]:
    """Everything Open311 shows anyone about these requests, JSON and XML."""
    with httpx.Client(base_url=server.url, timeout=30) as client:
        pages = [client.get(f"/open311/v2/requests.{fmt}") for fmt in ("json", "xml")]
        pages += [
            client.get(f"/open311/v2/requests/{code}.{fmt}") for code in codes for fmt in ("json", "xml")
        ]
    assert all(page.status_code == 200 for page in pages)
    return pages


def seen_by(server: LiveServer, token: str, ids: list[int]) -> list[httpx.Response]:
    """What one user reads about these submissions: the API list and items, the inbox and pages."""
    with server.client(token) as client:
        answers = [client.get("/api/v1/submissions"), client.get("/")]
        for sid in ids:
            answers += [client.get(f"/api/v1/submissions/{sid}"), client.get(f"/submissions/{sid}")]
    assert all(answer.status_code in (200, 403) for answer in answers), [a.status_code for a in answers]
    return answers


def assert_no_secret(responses: list[httpx.Response]) -> None:
    for response in responses:
        for secret in SECRETS:
            assert secret not in response.text, f"{secret!r} in {response.request.url}"


def api_view(server: LiveServer, token: str, sid: int) -> dict[str, Any]:
    with server.client(token) as client:
        response = client.get(f"/api/v1/submissions/{sid}")
    assert response.status_code == 200, response.text
    return response.json()


def exported(server: LiveServer, path: Path, *, include_contact: bool = False) -> str:
    export_submissions(server.db, server.settings, path, include_contact=include_contact, actor="test")
    return path.read_text(encoding="utf-8")


def test_before_analysis_typed_fields_reach_the_handler_only(live_server: LiveServer, tmp_path: Path) -> None:
    code = post_open311(live_server, address_string=ADDRESS, media_url=MEDIA_URL)
    post_api(live_server)
    open311_id, api_id = submission_ids(live_server)
    ids = [open311_id, api_id]

    pages = public_pages(live_server, [code])
    assert_no_secret(pages)
    [public] = pages[2].json()
    assert (public["address"], public["media_url"]) == (None, None)
    others = readers(live_server)
    for token in others.values():
        assert_no_secret(seen_by(live_server, token, ids))
    analyst = api_view(live_server, others["analyst"], api_id)
    assert (analyst["text"], analyst["locality"], analyst["source_id"]) == (None, None, None)
    assert analyst["redaction_pending"] == ["locality", "source_id", "attachment:0", "attachment:1"]
    assert [(a["filename"], a["url"]) for a in analyst["attachments"]] == [(None, None), (None, None)]
    assert analyst["redacted_text"] is None

    for token in handlers(live_server).values():
        own = api_view(live_server, token, api_id)
        assert (own["text"], own["locality"], own["source_id"]) == (DESCRIPTION, ADDRESS, SOURCE_ID)
        assert [(a["filename"], a["url"]) for a in own["attachments"]] == [
            (FILENAME, MEDIA_URL),
            ("so-do.png", None),
        ]
        assert own["redaction_pending"] == []
        with live_server.client(token) as client:
            page = client.get(f"/submissions/{api_id}")
        assert ADDRESS in page.text and SOURCE_ID in page.text and FILENAME in page.text

    plain = exported(live_server, tmp_path / "plain.jsonl")
    assert not any(secret in plain for secret in SECRETS)
    rows = [json.loads(line) for line in plain.splitlines()]
    assert [row["redaction_pending"] for row in rows] == [
        ["locality", "attachment:0"],
        ["locality", "source_id", "attachment:0", "attachment:1"],
    ]
    full = exported(live_server, tmp_path / "full.jsonl", include_contact=True)
    assert ADDRESS in full and SOURCE_ID in full and MEDIA_URL in full


def store_annotations(server: LiveServer, sid: int, pii: PiiOut, places: PlacesOut | None = None) -> None:
    """Annotations as the worker stores them, written directly (the stages' side is tested elsewhere)."""
    with server.db.write() as session:
        session.add(AnnotationRow(submission_id=sid, stage=pii.stage, data=pii.stored()))
        if places is not None:
            session.add(AnnotationRow(submission_id=sid, stage=places.stage, data=places.stored()))


REDACTED = {
    "locality": "nhà bà [PERSON], SĐT [PHONE]",
    "source_id": "hotline-[PHONE]",
    "attachment:0": "anh-[PHONE].jpg",
}
COMMUNE = UnitBrief(name="Phường Bến Thành", code="26734")
PROVINCE = UnitBrief(name="Thành phố Hồ Chí Minh", code="79")


def test_others_see_the_stored_redaction_and_open311_the_resolved_place(
    live_server: LiveServer, tmp_path: Path
) -> None:
    code = post_open311(live_server, address_string=ADDRESS, media_url=MEDIA_URL)
    post_api(live_server)
    open311_id, api_id = submission_ids(live_server)
    places = PlacesOut(commune=COMMUNE, province=PROVINCE)
    store_annotations(
        live_server,
        open311_id,
        PiiOut(redacted_text=DESCRIPTION, fields={"locality": REDACTED["locality"]}),
        places,
    )
    # attachment:1 has no stored redaction (as after an older version of the stage): still withheld
    store_annotations(live_server, api_id, PiiOut(redacted_text=DESCRIPTION, fields=REDACTED))

    for public in public_pages(live_server, [code]):
        assert PHONE not in public.text
    listed, xml = public_pages(live_server, [code])[:2]
    assert [r["address"] for r in listed.json()] == ["Phường Bến Thành, Thành phố Hồ Chí Minh"]
    assert ET.fromstring(xml.content).findtext("request/address") == "Phường Bến Thành, Thành phố Hồ Chí Minh"

    for role, token in readers(live_server).items():
        assert_no_secret(seen_by(live_server, token, [open311_id, api_id]))
        if role == "other_officer":
            continue
        view = api_view(live_server, token, api_id)
        assert (view["locality"], view["source_id"]) == (REDACTED["locality"], REDACTED["source_id"])
        assert [(a["filename"], a["url"]) for a in view["attachments"]] == [
            (REDACTED["attachment:0"], None),
            (None, None),
        ]
        assert view["redaction_pending"] == ["attachment:1"]
        with live_server.client(token) as client:
            page = client.get(f"/submissions/{api_id}").text
            inbox = client.get("/").text
        assert REDACTED["source_id"] in page and REDACTED["attachment:0"] in page
        assert 'data-pending="attachment:1"' in page
        assert "nhà bà [PERSON], SĐT [PHONE]" in inbox
    own = api_view(live_server, live_server.admin_token, api_id)
    assert (own["locality"], own["attachments"][0]["filename"]) == (ADDRESS, FILENAME)

    plain = exported(live_server, tmp_path / "plain.csv")
    assert PHONE not in plain and "hotline-[PHONE]" in plain and "anh-[PHONE].jpg" in plain


def run_worker(server: LiveServer) -> None:
    settings = server.settings.model_copy(update={"stages": STAGES})
    Worker(server.db, build_pipeline(settings, server.db), settings).drain()


def test_the_reported_open311_address_leaks_nowhere_after_analysis(
    live_server: LiveServer, tmp_path: Path
) -> None:
    code = post_open311(live_server, address_string=ADDRESS)
    placed = post_open311(
        live_server, "Cây đổ chắn ngang đường.", address_string=f"{ADDRESS}, phường Bến Thành, TP Hồ Chí Minh"
    )
    post_api(live_server)
    ids = submission_ids(live_server)
    run_worker(live_server)

    pages = public_pages(live_server, [code, placed])
    assert_no_secret(pages)
    by_code = {r["service_request_id"]: r for r in pages[0].json()}
    assert by_code[code]["address"] is None  # nothing in "nhà bà ..., SĐT ..." is a place
    with live_server.db.read() as session:
        stored = session.scalar(
            select(AnnotationRow.data).where(
                AnnotationRow.submission_id == ids[1], AnnotationRow.stage == "places"
            )
        )
    resolved = PlacesOut.from_stored(stored)
    assert resolved.province is not None
    expected = ", ".join(unit.name for unit in (resolved.commune, resolved.province) if unit is not None)
    assert by_code[placed]["address"] == expected
    for token in readers(live_server).values():
        assert_no_secret(seen_by(live_server, token, ids))
    assert not any(secret in exported(live_server, tmp_path / "plain.jsonl") for secret in SECRETS)
    for token in handlers(live_server).values():
        assert api_view(live_server, token, ids[0])["locality"] == ADDRESS


def test_analysis_redacts_every_typed_field(live_server: LiveServer) -> None:
    """Needs the ``pii`` stage to fill ``PiiOut.fields`` (the analysis side of this contract)."""
    post_open311(live_server, address_string=ADDRESS)
    sid = post_api(live_server)
    run_worker(live_server)
    analyst = live_server.user_token("analyst@example.org", Role.analyst)
    for shown in (
        api_view(live_server, analyst, submission_ids(live_server)[0]),
        api_view(live_server, analyst, sid),
    ):
        assert shown["redaction_pending"] == []
        assert shown["locality"] is not None and "[PHONE]" in shown["locality"]
        assert not any(secret in json.dumps(shown, ensure_ascii=False) for secret in SECRETS)
    view = api_view(live_server, analyst, sid)
    assert view["source_id"] is not None and "[PHONE]" in view["source_id"]
    assert [a["filename"] for a in view["attachments"]][1] == "so-do.png"
