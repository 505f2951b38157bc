"""Per-client limits count an IPv6 client by its /64 network.

A phone on a Chinese mobile network, like any IPv6 host, holds a whole /64
network and makes up new addresses in it at will (privacy addresses); counted
by full address, every limit per client (starting questionnaires, guessing
receipt codes at /withdraw, staff log-in attempts) was no limit at all for a
client that changed its address's last 64 bits on every request.
"""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.respond.paradata import client_hash
from tests.conftest import form_tokens
from tests.resident import channel_token, start

DAY = date(2026, 12, 2)


def _hash(app, address: str) -> str:
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": address}):
        return client_hash(DAY)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(network=st.integers(0, 2**64 - 1), first=st.integers(0, 2**64 - 1),
       second=st.integers(0, 2**64 - 1))  # fmt: skip
def test_addresses_of_one_ipv6_network_are_one_client(app, network, first, second):
    import ipaddress

    def address(interface: int) -> str:
        return str(ipaddress.IPv6Address((0x2408 << 112) | (network << 64) | interface))

    assert _hash(app, address(first)) == _hash(app, address(second))
    other = (network + 1) % 2**64
    neighbour = str(ipaddress.IPv6Address((0x2408 << 112) | (other << 64) | first))
    assert _hash(app, neighbour) != _hash(app, address(first))


def test_ipv4_clients_are_counted_by_address_as_before(app):
    assert _hash(app, "203.0.113.7") != _hash(app, "203.0.113.8")
    assert _hash(app, "::ffff:203.0.113.7") == _hash(app, "203.0.113.7")  # IPv4 on a v6 socket
    assert _hash(app, "") == _hash(app, "")  # no address (a test client, a Unix socket)
    assert _hash(app, "not an address") != _hash(app, "")


def _from(app, address: str):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_a_new_ipv6_address_for_each_guess_does_not_escape_the_withdraw_limit(app, demo_wave):
    app.config["RATE_LIMITS"] = {"withdraw_client": [3, 3600]}
    statuses = []
    for i in range(5):
        guesser = _from(app, f"2408:8207:1234:5678::{i + 1:x}")
        csrf = form_tokens(guesser.get("/withdraw").get_data(as_text=True))["csrf_token"]
        statuses.append(guesser.post("/withdraw", data={
            "csrf_token": csrf, "receipt_code": f"ABCD-000{i}"}).status_code)  # fmt: skip
    assert statuses == [404, 404, 404, 429, 429]
    elsewhere = _from(app, "2408:8207:1234:9999::1")  # another network: its own limit
    csrf = form_tokens(elsewhere.get("/withdraw").get_data(as_text=True))["csrf_token"]
    assert elsewhere.post("/withdraw", data={"csrf_token": csrf,
                                             "receipt_code": "ABCD-0009"}).status_code == 404  # fmt: skip


def test_a_new_ipv6_address_for_each_start_does_not_escape_the_start_limit(app, demo_wave):
    app.config["RATE_LIMITS"] = {"start_client": [2, 3600]}
    token = channel_token(app)
    statuses = [start(_from(app, f"240e:1:2:3:{i:x}::1"), token).status_code for i in range(3)]
    assert statuses == [200, 200, 429]
