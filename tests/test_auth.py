"""The login limits as a plain class: who gets locked out, and what it remembers."""

from __future__ import annotations

import tracemalloc

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


def test_many_addresses_reach_the_per_user_ceiling_but_never_a_known_browser() -> None:
    limiter = LoginLimiter(per_pair=2, per_address=10, per_user=6)
    for n in range(3):
        assert fail_until_blocked(limiter, f"203.0.113.{n}", "alice") == 2
    assert limiter.blocked("192.0.2.1", "alice")  # a new browser, a new address: the ceiling
    assert not limiter.blocked("192.0.2.1", "alice", known=True)  # alice's own browser
    assert not limiter.blocked("198.51.100.7", "alice", known=True)  # from anywhere
    assert limiter.blocked("203.0.113.0", "alice", known=True)  # that address's own limit
    assert not limiter.blocked("192.0.2.1", "bob")


def test_an_attempt_counts_at_once_and_a_success_takes_back_only_its_own() -> None:
    limiter = LoginLimiter()
    attempts = [limiter.attempt("203.0.113.9", "alice") for _ in range(6)]
    assert None not in attempts[:5] and attempts[5] is None  # refused before any check
    limiter.succeeded("203.0.113.9", "alice", attempts[4])  # the fifth was right after all
    assert limiter.attempt("203.0.113.9", "alice") is not None  # four failures stand
    assert limiter.attempt("203.0.113.9", "alice") is None


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


def spray(limiter: LoginLimiter, count: int, start: int = 0) -> None:
    """Failures from `count` different addresses at `count` different user names."""
    for n in range(start, start + count):
        limiter.failed(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", f"user{n}")


def test_checking_a_limit_remembers_nothing() -> None:
    limiter = LoginLimiter()
    for n in range(1000):
        assert not limiter.blocked(f"10.0.{n >> 8}.{n & 255}", f"user{n}")
    assert limiter.tracked() == 0


def test_the_failure_table_stays_bounded_however_many_names_and_addresses() -> None:
    limiter = LoginLimiter(max_keys=3000)
    spray(limiter, 1000)
    tracemalloc.start()
    try:
        spray(limiter, 1000, start=1000)  # the table is full from here on
        full = tracemalloc.get_traced_memory()[0]
        spray(limiter, 20_000, start=2000)
        later = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert later < full + 64 * 1024  # no growth beyond noise
    assert limiter.tracked() == 3000


def test_a_flood_of_fresh_keys_never_wipes_an_active_block() -> None:
    """The eviction attack: ann's per-user ceiling (reached from 20 addresses) and the
    attacker's own block hold while 3,500 failures under fresh names from fresh
    addresses overflow the table, and go only when the window has passed."""
    now = [1000.0]
    limiter = LoginLimiter(max_keys=10_000, clock=lambda: now[0])
    for n in range(20):
        fail_until_blocked(limiter, f"198.51.100.{n}", "ann")
    fail_until_blocked(limiter, "203.0.113.66", "mallory")
    assert limiter.blocked("192.0.2.1", "ann") and limiter.blocked("203.0.113.66", "mallory")
    for n in range(3500):  # 10,500 new keys: more than the table holds
        now[0] += 0.1
        limiter.failed(f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}", f"user{n}")
    assert limiter.tracked() <= 10_000
    assert limiter.blocked("192.0.2.1", "ann") and limiter.blocked("203.0.113.66", "mallory")
    now[0] += 900
    limiter.failed("10.9.9.9", "someone")  # time moves on: expired blocks go
    assert not limiter.blocked("192.0.2.1", "ann")


def test_a_table_full_of_blocks_lets_only_known_browsers_in() -> None:
    limiter = LoginLimiter(per_pair=1, per_address=1, per_user=1, max_keys=30)
    for n in range(10):
        limiter.failed(f"10.0.0.{n}", f"user{n}")  # 30 keys, each at its limit
    assert limiter.attempt("192.0.2.1", "ann") is None  # cannot be counted: refused
    assert limiter.attempt("192.0.2.1", "ann", known=True) is not None


def test_expired_failures_are_dropped_as_new_ones_come_in() -> None:
    now = [1000.0]
    limiter = LoginLimiter(window=60.0, clock=lambda: now[0])
    spray(limiter, 200)
    assert limiter.tracked() == 600  # (address, name), address and name for each
    now[0] += 61.0
    spray(limiter, 1, start=500)
    assert limiter.tracked() == 3


def test_one_key_keeps_only_what_its_limit_needs() -> None:
    limiter = LoginLimiter()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5000):  # as if a caller went on failing without asking first
            limiter.failed("203.0.113.9", "x" * 100_000)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert after - before < 16 * 1024
    assert limiter.blocked("203.0.113.9", "x" * 100_000) and limiter.tracked() == 3
