"""The login limits as a plain class: who gets locked out, and what it remembers."""

from __future__ import annotations

import pytest

from cbewatch.web.auth import LoginLimiter, address_key


def fail_until_blocked(limiter: LoginLimiter, address: str, user: str) -> int:
    """What an attacker does: guess until refused; returns how many guesses it got."""
    guesses = 0
    while not limiter.blocked(address, user):
        limiter.failed(address, user)
        guesses += 1
    return guesses


def test_one_address_can_never_lock_a_user_out_elsewhere() -> None:
    limiter = LoginLimiter()
    assert fail_until_blocked(limiter, "203.0.113.9", "alice") == 5
    assert fail_until_blocked(limiter, "203.0.113.9", "ALICE") == 0  # names match any case
    assert not limiter.blocked("198.51.100.7", "alice")


def test_many_addresses_reach_the_per_user_ceiling_but_not_a_known_address() -> None:
    limiter = LoginLimiter(per_pair=2, per_address=10, per_user=6)
    limiter.succeeded("198.51.100.7", "alice")  # where alice logged in last week
    for n in range(3):
        assert fail_until_blocked(limiter, f"203.0.113.{n}", "alice") == 2
    assert limiter.blocked("192.0.2.1", "alice")  # a new address: the ceiling holds
    assert not limiter.blocked("198.51.100.7", "alice")
    assert not limiter.blocked("192.0.2.1", "bob")


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("?", "?"),
    ],
)
def test_address_key(address: str, key: str) -> None:
    assert address_key(address) == key


def test_an_ipv6_client_cannot_escape_by_changing_its_interface_id() -> None:
    limiter = LoginLimiter()
    for n in range(5):
        limiter.failed(f"2001:db8:1:2::{n:x}", "alice")
    assert limiter.blocked("2001:db8:1:2::99", "alice")
    assert not limiter.blocked("2001:db8:1:3::1", "alice")
