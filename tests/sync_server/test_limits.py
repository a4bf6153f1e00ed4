"""Rate limits shared through the database, per account and per trusted client address; a bounded hashing pool."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, text

from sync_server.db import create_db_engine, migrate
from sync_server.ratelimit import DatabaseCounters, MemoryCounters, RateLimiter
from sync_server.security import PasswordHashingBusy, Passwords
from sync_server.settings import Argon2Params
from tests.sync_server.helpers import ApiClient

LOGIN = "/api/v1/auth/login"


def test_two_workers_on_one_database_count_once(database_url: str) -> None:
    engine = create_db_engine(database_url)
    migrate(engine)
    try:
        first, second = RateLimiter(DatabaseCounters(engine)), RateLimiter(DatabaseCounters(engine))
        answers = [(first if n % 2 else second).hit("auth:198.51.100.7", 5, 60) for n in range(7)]
        assert answers[:5] == [None] * 5
        assert all(wait is not None and 1 <= wait <= 60 for wait in answers[5:])
        assert first.hit("auth:198.51.100.8", 5, 60) is None  # another address has its own budget
    finally:
        engine.dispose()


def test_a_large_limit_is_counted_in_batches_and_overshoots_by_at_most_one_batch_per_process() -> None:
    store = MemoryCounters()
    workers = [RateLimiter(store) for _ in range(3)]
    allowed = 0
    for n in range(1500):
        if workers[n % 3].hit("ip:203.0.113.9", 600, 3600) is None:
            allowed += 1
    assert 600 <= allowed <= 600 + 3 * (600 // 50)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_one_account_gets_few_guesses_from_many_addresses(make_client) -> None:
    api: ApiClient = make_client(rate_limits={"login_per_account": 5, "auth_per_ip": 0})
    api.register("ada@example.org", "correct horse battery")
    statuses = [
        api.post(
            LOGIN,
            json={"email": "ada@example.org", "password": f"guess {n}"},
            headers={"X-Forwarded-For": f"203.0.113.{n}"},  # the test client is 127.0.0.1, a trusted proxy
        ).status_code
        for n in range(1, 9)
    ]
    assert statuses == [401] * 5 + [429] * 3
    other = api.post(LOGIN, json={"email": "bob@example.org", "password": "whatever"})
    assert other.status_code == 401  # counted per email, also for emails without an account


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_forwarded_addresses_count_only_from_trusted_proxies(make_client) -> None:
    trusting = make_client(rate_limits={"auth_per_ip": 2, "login_per_account": 0})
    spread = [
        trusting.post(LOGIN, json={"email": "a@example.org", "password": "x"}, headers={"X-Forwarded-For": ip})
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4")
    ]
    assert [r.status_code for r in spread] == [401] * 4  # each client behind the proxy has its own budget
    distrusting = make_client(rate_limits={"auth_per_ip": 2, "login_per_account": 0}, forwarded_allow_ips="10.1.2.3")
    spoofed = [
        distrusting.post(LOGIN, json={"email": "a@example.org", "password": "x"}, headers={"X-Forwarded-For": ip})
        for ip in ("192.0.2.1", "192.0.2.2", "192.0.2.3")
    ]
    assert [r.status_code for r in spoofed] == [401, 401, 429]  # a client's own claim changes nothing


def test_hashing_is_bounded_and_the_excess_is_refused_at_once() -> None:
    passwords = Passwords(
        Argon2Params(time_cost=1, memory_cost_kib=1024, parallelism=1, max_concurrent=1, max_waiting=0)
    )
    inside, release = threading.Event(), threading.Event()
    real = passwords._hasher  # the pool is what is under test: the first hash is held open here

    class HeldOpen:
        def hash(self, password: str) -> str:
            inside.set()
            release.wait(5)
            return real.hash(password)

        def __getattr__(self, name: str) -> object:
            return getattr(real, name)

    passwords._hasher = HeldOpen()  # type: ignore[assignment]
    worker = threading.Thread(target=passwords.hash, args=("first password",))
    worker.start()
    try:
        assert inside.wait(5)
        with pytest.raises(PasswordHashingBusy) as refused:
            passwords.verify(None, "second password")
        assert refused.value.status == 503 and refused.value.retry_after_s >= 1
    finally:
        release.set()
        worker.join(5)
    passwords._hasher = real
    assert passwords.verify(passwords.hash("third password"), "third password")  # the slot is free again


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_busy_hashing_pool_answers_503_with_retry_after(make_client, monkeypatch: pytest.MonkeyPatch) -> None:
    api: ApiClient = make_client()

    def busy(*_args: object) -> str:
        raise PasswordHashingBusy(retry_after_s=2)

    monkeypatch.setattr(api.app_state.passwords, "hash", busy)
    response = api.post("/api/v1/auth/register", json={"email": "ada@example.org", "password": "correct horse"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "2"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_passwords_are_hashed_while_others_can_write(make_client, database_url: str) -> None:
    """Register, login, upgrade and password change hash with no transaction open (SQLite's write lock free)."""
    api: ApiClient = make_client()
    other = create_engine(database_url, connect_args={"timeout": 0.2})
    writes: list[bool] = []
    passwords = api.app_state.passwords
    hash_, verify = passwords.hash, passwords.verify

    def write_meanwhile() -> None:
        with other.connect() as connection:
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                connection.exec_driver_sql("ROLLBACK")
                writes.append(True)
            except Exception:  # noqa: BLE001 - "database is locked": the request holds the write lock
                writes.append(False)

    passwords.hash = lambda password: (write_meanwhile(), hash_(password))[1]  # type: ignore[method-assign]
    passwords.verify = lambda stored, password: (write_meanwhile(), verify(stored, password))[1]  # type: ignore
    try:
        ada = api.register("ada@example.org", "correct horse")
        assert api.post(LOGIN, json={"email": "ada@example.org", "password": "correct horse"}).status_code == 200
        guest = api.guest()["access_token"]
        upgrade = {"email": "bob@example.org", "password": "battery staple"}
        assert api.post("/api/v1/auth/upgrade", token=guest, json=upgrade).status_code == 200
        change = {"new_password": "a new passphrase", "current_password": "correct horse"}
        assert api.patch("/api/v1/me", token=ada["access_token"], json=change).status_code == 200
    finally:
        other.dispose()
    assert len(writes) >= 5 and all(writes)
    with api.app_state.engine.connect() as connection:  # and the counters live in the database
        assert connection.execute(text("SELECT count(*) FROM rate_limits")).scalar_one() > 0


@pytest.mark.parametrize(
    ("peer", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),  # one IPv6 host usually holds a whole /64
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("not an address", "unknown"),
    ],
)
def test_clients_are_keyed_by_address_and_ipv6_by_network(peer: str, key: str) -> None:
    from sync_server.middleware import client_ip

    assert client_ip({"client": (peer, 1234)}) == key
