"""Bad input is refused at the edge with a 4xx, never a 5xx, on SQLite and PostgreSQL.

The named cases are the audit's former 500s (docs review server.md §2: Q5, Q6, U5, U6). The property test takes a
valid request for each route and replaces one string, integer or time in its body, query or path with a hostile
value (NUL and control characters, 32/53/63/64-bit edges, times near year 1 and 9999 with ±14:00 offsets).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.sync_server.helpers import ApiClient, import_bundled
from tests.sync_server.test_games import upload_body

NO_LIMITS = {"per_ip": 0, "per_account": 0, "auth_per_ip": 0, "login_per_account": 0}
NO_LIMITS |= {"uploads_per_account": 0, "ranked_starts_per_account": 0}


@pytest.fixture
def api(make_client) -> ApiClient:
    return make_client(rate_limits=NO_LIMITS)


@pytest.mark.parametrize("cursor", ["2147483648", "4294967296", "9223372036854775807", "99999999999999999999"])
def test_history_cursors_beyond_any_session_id_are_422(api: ApiClient, cursor: str) -> None:
    token = api.guest()["access_token"]
    assert api.get("/api/v1/sessions", token=token, params={"cursor": cursor}).status_code == 422


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/register", {"email": "nul\x00byte@evil.example", "password": "correct horse"}),
        ("/api/v1/auth/register", {"email": "ada@example.org", "password": "correct\x00horse"}),
        ("/api/v1/auth/login", {"email": "nul\x00byte@evil.example", "password": "correct horse"}),
        ("/api/v1/auth/login", {"email": "ada@example.org", "password": "\x00"}),
    ],
)
def test_nul_bytes_in_credentials_are_422(api: ApiClient, path: str, body: dict) -> None:
    assert api.post(path, json=body).status_code == 422


def test_nul_bytes_in_account_changes_and_labels_are_422(api: ApiClient) -> None:
    ada = api.register("ada@example.org", "correct horse")["access_token"]
    change = {"email": "nul\x00@evil.example", "current_password": "correct horse"}
    assert api.patch("/api/v1/me", token=ada, json=change).status_code == 422
    body = upload_body(3)
    body["rounds"][0]["options"] = ["coat", "bag\x00", "shirt", "dress"]
    body["rounds"][0]["player_answer"] = "bag\x00"
    assert api.post("/api/v1/sessions", token=ada, json=body).status_code == 422


@pytest.mark.parametrize(
    "times",
    [
        {"started_at": "0001-01-01T00:00:00+14:00"},
        {"finished_at": "9999-12-31T23:59:59-14:00"},
        {"started_at": "9999-12-31T23:00:00-01:00", "finished_at": "9999-12-31T23:30:00-01:00"},
    ],
)
def test_times_that_overflow_in_utc_are_422(api: ApiClient, times: dict) -> None:
    token = api.guest()["access_token"]
    assert api.post("/api/v1/sessions", token=token, json=upload_body(3, **times)).status_code == 422


# --- the property: one hostile leaf in an otherwise valid request never gives a 5xx ---------------------------

INT_EDGES = [2**31 - 1, 2**31, -(2**31) - 1, 2**53, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63) - 1]
HOSTILE_STRINGS = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=300),
    st.text(st.characters(max_codepoint=0x7F), max_size=20).map(lambda s: s + "\x00" + s),
    st.sampled_from(["", " ", "\x00", "\x1b[2J", "\u202e", "'; DROP TABLE users; --", "9" * 40]),
    st.sampled_from([str(n) for n in INT_EDGES]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
HOSTILE_TIMES = st.builds(
    lambda moment, minutes: moment.replace(tzinfo=dt.timezone(dt.timedelta(minutes=minutes))).isoformat(),
    st.one_of(
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(1, 1, 3)),
        st.datetimes(min_value=dt.datetime(9999, 12, 29), max_value=dt.datetime(9999, 12, 31, 23, 59)),
        st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    ),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
)
HOSTILE_INTS = st.one_of(st.sampled_from(INT_EDGES), st.integers(min_value=-(2**70), max_value=2**70))


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[path[0]] = _replaced(value[path[0]], path[1:], new)
    return copy


def _hostile_for(path: tuple, original: Any) -> st.SearchStrategy:
    name = str(path[-1]) if path else ""
    if isinstance(original, bool) or original is None:
        return st.one_of(HOSTILE_STRINGS, HOSTILE_INTS)
    if isinstance(original, int):
        return HOSTILE_INTS
    if name.endswith("_at") or name == "at":
        return st.one_of(HOSTILE_TIMES, HOSTILE_STRINGS)
    return HOSTILE_STRINGS


@pytest.fixture
def requests_by_route(api: ApiClient) -> list[dict]:
    """One valid request per route with inputs: method, path template, path values, query and JSON body."""
    import_bundled(api.app_state)
    ada = api.register("ada@example.org", "correct horse")
    guest = api.guest()
    token = ada["access_token"]
    uploaded = api.post("/api/v1/sessions", token=token, json=upload_body(3)).json()["id"]
    start = {"pack_id": "fashion-mnist", "difficulty": "medium"}
    ranked = api.post("/api/v1/ranked/sessions", token=token, json=start).json()["id"]
    api.post(f"/api/v1/ranked/sessions/{ranked}/seed", token=token, json={"client_seed": "ab" * 16})
    api.post(f"/api/v1/ranked/sessions/{ranked}/next", token=token)
    board = {"pack_id": "fashion-mnist", "difficulty": "medium", "period": "all"}
    routes = [
        {"method": "POST", "path": "/api/v1/auth/register", "body": {"email": "new@example.org", "password": "p" * 9}},
        {"method": "POST", "path": "/api/v1/auth/login", "body": {"email": "ada@example.org", "password": "guess"}},
        {"method": "POST", "path": "/api/v1/auth/guest", "body": {"display_name": "Guest"}},
        {"method": "POST", "path": "/api/v1/auth/refresh", "body": {"refresh_token": "r" * 43}},
        {"method": "POST", "path": "/api/v1/auth/logout", "body": {"refresh_token": "r" * 43}},
        {
            "method": "POST",
            "path": "/api/v1/auth/upgrade",
            "token": guest["access_token"],
            "body": {"email": "up@example.org", "password": "p" * 9, "display_name": "Up"},
        },
        {
            "method": "PATCH",
            "path": "/api/v1/me",
            "body": {"display_name": "Ada", "email": "ada2@example.org", "current_password": "correct horse"},
        },
        {"method": "POST", "path": "/api/v1/sessions", "body": upload_body(3)},
        {"method": "GET", "path": "/api/v1/sessions", "query": {"limit": 5, "cursor": "12"}},
        {"method": "GET", "path": "/api/v1/sessions/{session_id}", "values": {"session_id": uploaded}},
        {"method": "POST", "path": "/api/v1/ranked/sessions", "body": start},
        {"method": "GET", "path": "/api/v1/ranked/sessions/{session_id}", "values": {"session_id": ranked}},
        {
            "method": "POST",
            "path": "/api/v1/ranked/sessions/{session_id}/seed",
            "values": {"session_id": ranked},
            "body": {"client_seed": "cd" * 16},
        },
        {"method": "POST", "path": "/api/v1/ranked/sessions/{session_id}/next", "values": {"session_id": ranked}},
        {
            "method": "POST",
            "path": "/api/v1/ranked/sessions/{session_id}/rounds/{number}/answer",
            "values": {"session_id": ranked, "number": 1},
            "body": {"answer": "Coat"},
        },
        # The cursor of the boards is validated by sync_server/leaderboards.py (tested there).
        {
            "method": "GET",
            "path": "/api/v1/leaderboards/{pack_id}/{difficulty}/{period}",
            "values": board,
            "query": {"limit": 10, "at": "2026-11-18"},
        },
        {
            "method": "GET",
            "path": "/api/v1/leaderboards/{pack_id}/{difficulty}/{period}/around-me",
            "values": board,
            "query": {"window": 3, "at": "2026-11-18"},
        },
    ]
    # Access tokens stay valid through the email and password changes the examples may make.
    return [{"token": token, **route} for route in routes]


@settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_no_hostile_value_in_any_field_gives_a_5xx(api: ApiClient, requests_by_route: list[dict], data) -> None:  # noqa: ANN001
    request = data.draw(st.sampled_from(requests_by_route), label="route")
    parts = {part: request.get(part) or {} for part in ("values", "query", "body")}
    leaves = [(part, path, value) for part, tree in parts.items() for path, value in _leaves(tree) if path]
    part, path, original = data.draw(st.sampled_from(leaves), label="field")
    parts[part] = _replaced(parts[part], path, data.draw(_hostile_for(path, original), label="value"))
    url = request["path"].format(**{k: quote(str(v), safe="") for k, v in parts["values"].items()})
    token = request["token"]
    json_body = parts["body"] if request["method"] != "GET" and request.get("body") else None
    response = api.request(request["method"], url, token=token, params=parts["query"] or None, json=json_body)
    assert response.status_code < 500, (request["method"], url, parts, response.text)
