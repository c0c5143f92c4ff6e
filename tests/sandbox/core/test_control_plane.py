"""The shared middleware and control plane, driven over real sockets against the tiny backend."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from channel_sync.sandbox import InstanceSpec, RunningInstance, SandboxServer

from .tiny_backend import TinyBackend

# What requests raises when a response is cut after its head: an incomplete read.
BROKEN = (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError)


def auth(inst: RunningInstance) -> dict[str, str]:
    return {"Authorization": f"Bearer {inst.access_token}"}


def put(inst: RunningInstance, key: str, **fields: Any) -> requests.Response:
    return requests.put(
        f"{inst.base_url}/items/{key}",
        json=fields,
        headers=auth(inst),
        verify=inst.verify,
        timeout=10,
    )


def get_items(inst: RunningInstance, **kw: Any) -> requests.Response:
    kw.setdefault("timeout", 10)
    return requests.get(f"{inst.base_url}/items", headers=auth(inst), verify=inst.verify, **kw)


def control(inst: RunningInstance, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(method, inst.control_url + path, verify=inst.verify, timeout=10, **kw)


def add_faults(inst: RunningInstance, **body: Any) -> dict[str, Any]:
    response = control(inst, "POST", "/faults", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ledger(inst: RunningInstance, since: int = 0) -> dict[str, Any]:
    response = control(inst, "GET", "/ledger", params={"since": since})
    assert response.status_code == 200
    result: dict[str, Any] = response.json()
    return result


def backend(inst: RunningInstance) -> TinyBackend:
    assert isinstance(inst.backend, TinyBackend)
    return inst.backend


def test_https_instance_needs_its_ca_bundle(secure: RunningInstance) -> None:
    assert secure.base_url.startswith("https://127.0.0.1:")
    assert secure.ca_bundle is not None
    assert secure.ca_bundle.is_file()
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(secure.control_url + "/info", timeout=10)
    assert get_items(secure).status_code == 200


def test_ledger_records_api_requests_with_counters(secure: RunningInstance) -> None:
    assert put(secure, "a", name="A").status_code == 200
    assert put(secure, "b", name="B").status_code == 200
    assert get_items(secure, params={"q": "x y"}).json()["items"][0]["name"] == "A"
    bad = requests.get(f"{secure.base_url}/items", verify=secure.verify, timeout=10)
    assert bad.status_code == 401
    body = ledger(secure)
    entries = body["entries"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("PUT", "/items/a", 200),
        ("PUT", "/items/b", 200),
        ("GET", "/items", 200),
        ("GET", "/items", 401),
    ]
    assert [e["records_written"] for e in entries] == [1, 1, 0, 0]
    assert entries[2]["records_read"] == 2
    assert entries[2]["query"] == "q=x+y"
    assert [e["counts_against_allowance"] for e in entries] == [True, True, True, False]
    assert body["api_calls"] == 3
    assert all(e["fault"] is None for e in entries)
    newer = ledger(secure, since=entries[1]["seq"])["entries"]
    assert [e["seq"] for e in newer] == [entries[2]["seq"], entries[3]["seq"]]


def test_control_plane_is_not_in_the_ledger(plain: RunningInstance) -> None:
    control(plain, "GET", "/info")
    control(plain, "GET", "/faults")
    assert ledger(plain)["entries"] == []
    assert control(plain, "DELETE", "/ledger").status_code == 200
    assert control(plain, "GET", "/ledger", params={"since": "x"}).status_code == 400


def test_status_rule_with_after_and_count(plain: RunningInstance) -> None:
    state = add_faults(
        plain,
        rules=[
            {
                "id": "flaky",
                "method": "GET",
                "path": "^/items$",
                "after": 1,
                "count": 2,
                "status": 503,
                "headers": {"Retry-After": "1"},
            }
        ],
    )
    assert state["rules"][0]["remaining"] == 2
    handled_before = backend(plain).handled
    statuses = []
    for _ in range(4):
        response = get_items(plain)
        statuses.append(response.status_code)
        if response.status_code == 503:
            assert response.json() == {"tiny_error": 503, "rule": "flaky"}
            assert response.headers["Retry-After"] == "1"
    assert statuses == [200, 503, 503, 200]
    assert backend(plain).handled == handled_before + 2
    entries = ledger(plain)["entries"]
    assert [e["fault"] for e in entries] == [None, "flaky", "flaky", None]
    # A PUT does not match the GET-only rule.
    add_faults(plain, rules=[{"id": "flaky", "method": "GET", "path": "^/items", "status": 500}])
    assert put(plain, "k").status_code == 200


def test_status_rule_with_own_body(plain: RunningInstance) -> None:
    add_faults(plain, rules=[{"path": "^/items$", "status": 418, "body": [{"errorCode": "TEA"}]}])
    response = get_items(plain)
    assert response.status_code == 418
    assert response.json() == [{"errorCode": "TEA"}]


def test_injected_401_does_not_count(plain: RunningInstance) -> None:
    add_faults(plain, rules=[{"path": "^/items$", "status": 401}])
    assert get_items(plain).status_code == 401
    assert ledger(plain)["api_calls"] == 0


@pytest.mark.parametrize("instance", ["secure", "plain"])
def test_drop_response_commits_then_cuts_the_connection(instance: str, tiny: SandboxServer) -> None:
    inst = tiny.instances[instance]
    add_faults(
        inst, rules=[{"id": "cut", "method": "PUT", "path": "^/items/", "drop_response": True}]
    )
    with pytest.raises(BROKEN):
        put(inst, "dropped", name="written anyway")
    assert control(inst, "GET", "/snapshot").json() == {
        "items": [{"key": "dropped", "name": "written anyway"}]
    }
    (entry,) = ledger(inst)["entries"]
    assert entry["fault"] == "cut"
    assert entry["status"] == 200
    assert entry["records_written"] == 1
    # The rule is spent: the retry goes through and the server is still healthy.
    assert put(inst, "dropped", name="again").status_code == 200


def test_latency_delays_the_answer(plain: RunningInstance) -> None:
    add_faults(plain, rules=[{"path": "^/items$", "latency_ms": 300}])
    started = time.perf_counter()
    response = get_items(plain)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    assert elapsed >= 0.3
    (entry,) = ledger(plain)["entries"]
    assert entry["duration_ms"] >= 300
    assert entry["fault"] is not None


def test_timeout_holds_until_the_client_gives_up(plain: RunningInstance) -> None:
    add_faults(plain, rules=[{"id": "hang", "path": "^/items$", "timeout": True}])
    handled_before = backend(plain).handled
    with pytest.raises(requests.exceptions.ReadTimeout):
        get_items(plain, timeout=0.4)
    assert backend(plain).handled == handled_before
    deadline = time.monotonic() + 5
    while not ledger(plain)["entries"] and time.monotonic() < deadline:
        time.sleep(0.05)
    (entry,) = ledger(plain)["entries"]
    assert entry["status"] == 0
    assert entry["fault"] == "hang"
    assert get_items(plain).status_code == 200


def test_shutdown_releases_held_requests() -> None:
    outcome: list[BaseException | int] = []
    with SandboxServer([InstanceSpec("t", "tiny", factory=TinyBackend)]) as server:
        inst = server.instances["t"]
        add_faults(inst, rules=[{"path": "^/items$", "timeout": True}])

        def call() -> None:
            try:
                outcome.append(get_items(inst, timeout=60).status_code)
            except requests.RequestException as exc:
                outcome.append(exc)

        caller = threading.Thread(target=call)
        caller.start()
        deadline = time.monotonic() + 5
        while inst.backend.faults.to_json()["rules"][0]["applied"] == 0:
            assert time.monotonic() < deadline
            time.sleep(0.02)
    caller.join(10)
    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], BROKEN)


def test_locked_records_and_unlocking(plain: RunningInstance) -> None:
    add_faults(plain, locked_records=["k1"])
    assert put(plain, "k1").status_code == 409
    assert put(plain, "k2").status_code == 200
    assert add_faults(plain, unlocked_records=["k1"])["locked_records"] == []
    assert put(plain, "k1").status_code == 200


def test_expire_tokens_and_ttl(plain: RunningInstance) -> None:
    state = add_faults(plain, token_ttl_s=42)
    assert state["token_ttl_s"] == 42
    assert plain.backend.tokens.issue().expires_in(plain.backend.clock.now()) in (41, 42)
    add_faults(plain, expire_tokens=True)
    response = get_items(plain)
    assert response.status_code == 401
    assert response.json() == {"error": "token expired"}
    control(plain, "POST", "/reset")
    assert get_items(plain).status_code == 200
    assert control(plain, "GET", "/faults").json()["token_ttl_s"] == 7200.0


def test_limits_from_the_control_plane(plain: RunningInstance) -> None:
    state = add_faults(plain, daily_limit=2)
    assert state["allowance"]["daily_limit"] == 2
    assert [get_items(plain).status_code for _ in range(3)] == [200, 200, 429]
    add_faults(plain, daily_limit=100, burst_limit=1, burst_window_s=30)
    assert [get_items(plain).status_code for _ in range(2)] == [200, 429]
    add_faults(plain, no_burst_limit=True)
    assert get_items(plain).status_code == 200
    control(plain, "POST", "/reset")
    assert control(plain, "GET", "/info").json()["allowance"]["daily_limit"] == 1000


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not JSON"),
        (b'{"rules": [{"path": "("}]}', "invalid faults update"),
        (b'{"colour": "red"}', "invalid faults update"),
        (b'{"daily_limit": -1}', "invalid faults update"),
    ],
)
def test_bad_fault_updates_are_refused(plain: RunningInstance, body: bytes, fragment: str) -> None:
    response = control(plain, "POST", "/faults", data=body)
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert control(plain, "GET", "/faults").json()["rules"] == []


def test_delete_faults(plain: RunningInstance) -> None:
    add_faults(plain, rules=[{"id": "a", "path": "x", "status": 500}], locked_records=["z"])
    assert control(plain, "DELETE", "/faults/nope").status_code == 404
    assert control(plain, "DELETE", "/faults/a").json()["rules"] == []
    add_faults(plain, rules=[{"id": "b", "path": "x", "status": 500}])
    cleared = control(plain, "DELETE", "/faults").json()
    assert cleared["rules"] == []
    assert cleared["locked_records"] == []


def test_reset_empties_but_keeps_tokens(plain: RunningInstance) -> None:
    put(plain, "a")
    add_faults(plain, rules=[{"path": "nothing-matches", "status": 500}], locked_records=["a"])
    assert control(plain, "POST", "/reset").json() == {"reset": True}
    assert control(plain, "GET", "/snapshot").json() == {"items": []}
    assert ledger(plain)["entries"] == []
    assert control(plain, "GET", "/faults").json()["rules"] == []
    assert get_items(plain).status_code == 200
    assert plain.backend.allowance.used == 1


def test_seed_and_info(plain: RunningInstance, secure: RunningInstance) -> None:
    response = control(plain, "POST", "/seed", json={"seed": 7, "deals": 5})
    assert response.json() == {"seeded": 5, "seed": 7}
    keys = [item["key"] for item in control(plain, "GET", "/snapshot").json()["items"]]
    assert keys == [f"seed-7-{i:06d}" for i in range(1, 6)]
    assert control(secure, "GET", "/snapshot").json() == {"items": []}
    assert control(plain, "POST", "/seed", json={"deals": -1}).status_code == 400
    get_items(plain)
    info = control(plain, "GET", "/info").json()
    assert info["name"] == "plain"
    assert info["kind"] == "tiny"
    assert info["settings"] == {"daily_limit": 1000}
    assert info["api_calls"] == 1
    assert info["allowance"]["used"] == 1
