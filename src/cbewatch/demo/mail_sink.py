"""The demo's mail server: a real SMTP server (aiosmtpd) on 127.0.0.1 that writes every
message it takes into a folder, one `.eml` file each, so the demo's sends go somewhere a
person can open and nothing leaves the machine."""

from __future__ import annotations

import itertools
import re
import socket
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class _Writer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        to = re.sub(r"[^A-Za-z0-9@._-]", "_", ",".join(envelope.rcpt_tos))[:80]
        path = self.folder / f"{next(self._numbers):03d}-{to}.eml"
        path.write_bytes(envelope.content)
        return f"250 OK: written to {path.name}"


class MailSink:
    """`with MailSink(folder) as sink:` an SMTP server on `sink.port` writing to `folder`
    (emptied of earlier .eml files first)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = _free_port()  # aiosmtpd's Controller cannot be asked for port 0
        self._controller = Controller(_Writer(folder), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailSink:
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.eml"):
            old.unlink()
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
