"""The delivery ledger: one row per (issue month, subscriber), `queued` → `sending`
(committed before the SMTP DATA) → `sent` with the server's reply, or `failed` with the
reason; so a send that dies half-way is resumed without sending anyone the issue twice
(a row left in `sending` is in doubt) or skipping anyone.
"""

from __future__ import annotations

from .connection import Connection


class Deliveries:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db
