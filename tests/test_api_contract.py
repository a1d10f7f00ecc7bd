"""The OpenAPI contract, checked by schemathesis against the real running app on SQLite and PostgreSQL.

Every operation of the spec is called with generated valid and invalid input, authenticated as an
admin, and every built-in check runs: no server error, only documented status codes, content types,
headers and bodies, invalid input refused, valid input accepted, auth not ignored, 405 with
``Allow`` for other methods. One exception to schemathesis's defaults: a documented 400 or 422 for
valid-looking input counts as accepted, because the schema cannot state what the API checks against
the store or the format (topic, agency and theme codes; a cursor from an earlier page).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from civicpulse.domain import Role
from civicpulse.service import create_app
from civicpulse.store.db import Database
from civicpulse.store.users import create_token, create_user
from tests.conftest import LiveServer, make_settings, run_server

EXAMPLES = 12  # per operation and phase; the whole file stays within about 90 s on 2 cores
ANALYZE_EXAMPLES = 3
CONFIG = schemathesis.Config.from_dict(
    {
        "request-timeout": 60,
        "generation": {"mode": "all", "max-examples": EXAMPLES},
        "operations": [  # the analysis runs every stage on texts up to max_text_chars: few examples
            {"include-path": "/api/v1/analyze", "generation": {"max-examples": ANALYZE_EXAMPLES}}
        ],
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "3xx", "400", "401", "403", "404", "409", "422", "429"]
            }
        },
    }
)
# The spec as the app builds it; test_served_spec_is_the_tested_one checks the server serves the same.
SPEC = create_app(make_settings("sqlite:///unused.db"), run_workers=False).openapi()
SCHEMA = schemathesis.openapi.from_dict(SPEC, config=CONFIG)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def contract_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One real server per engine for the whole file, with an admin's bearer token."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('contract') / 'civicpulse.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database(f"t_{uuid.uuid4().hex[:12]}")
    server_settings = make_settings(url)
    db = Database.from_settings(server_settings)
    db.upgrade()
    with db.write() as session:
        admin = create_user(session, "admin@example.org", "admin-password", Role.admin)
        token = create_token(session, admin)
    for base in run_server(server_settings):
        yield LiveServer(url=base, settings=server_settings, db=db, admin_token=token)
    db.dispose()


@SCHEMA.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_api_answers_as_documented(case: schemathesis.Case, contract_server: LiveServer) -> None:
    case.call_and_validate(
        base_url=contract_server.url, headers={"Authorization": f"Bearer {contract_server.admin_token}"}
    )


def test_served_spec_is_the_tested_one(contract_server: LiveServer) -> None:
    served = httpx.get(f"{contract_server.url}/openapi.json", timeout=30)
    assert served.status_code == 200
    assert served.json() == SPEC
