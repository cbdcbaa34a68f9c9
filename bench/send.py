"""Benchmark: sending an issue to the list.

(a) Speed: 2,000 confirmed subscribers, one approved 40-item issue, a local SMTP sink
    (aiosmtpd in its own process, taking every message and keeping none). cbewatch's
    sender (`services.sending.send_issue`: the ledger row written before and after each
    message, connections reused, `smtp.concurrency` 4, the rate limit set out of the way)
    against a naive loop that builds each message with the email package and opens one
    SMTP connection per message (`aiosmtplib.send`, one after another); and, printed
    beside it, the same loop sending cbewatch's own prepared messages, which isolates
    what reusing connections buys. Each side runs in a fresh process and
    is timed from the call to the end of the send; the best of ROUNDS, taking turns.
(b) Memory: the peak resident size of a process that sends to 10,000 subscribers, over
    one that sends to 1,000 (each a fresh process, measured by `ru_maxrss`): a sender
    that held the whole list, or every message, would grow with it.

Last line: `send: speedup_vs_naive=X rss_growth_10k_vs_1k=Y` (goals X ≥ 3, Y ≤ 1.2).
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

SPEED_SUBSCRIBERS = 2_000
ROUNDS = 3
SIDES = ("cbewatch", "naive", "naive_bytes")
MONTH = "2026-10"

SINK = """
import sys, time
from aiosmtpd.controller import Controller

class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("up", flush=True)
while sys.stdin.readline():
    print(f"{time.process_time():.3f}", flush=True)  # the sink's CPU so far
controller.stop()
"""


def prepare(folder: Path, port: int, subscribers: int) -> Path:
    """A config pointing at the sink, the issue approved, `subscribers` confirmed."""
    from cbewatch.config import load_config
    from cbewatch.model.times import to_iso, utc_now
    from cbewatch.store import Store

    # bench/issue.py's 40-item issue, loaded by path: the bench folder on sys.path would
    # let bench/queue.py shadow the standard library's queue
    path = Path(__file__).with_name("issue.py")
    spec = importlib.util.spec_from_file_location("bench_issue", path)
    assert spec is not None and spec.loader is not None
    bench_issue = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_issue)

    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "sources.yaml"
    config.write_text(
        "data_dir: var\ntopics:\n  - name: Policy\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  starttls: false\n"
        "  rate: 1000000\n  concurrency: 4\n"
        "newsletter:\n  title: The Bench Roundup\n  from: news@example.org\n"
        "  base_url: https://news.example.org/\n"
    )
    issue = bench_issue.compose_issue(MONTH, random.Random(7))
    sections = tuple(
        replace(s, entries=tuple(replace(e, item_id=None) for e in s.entries))
        for s in issue.sections
    )
    with Store(load_config(config).db_path) as store:
        store.issues.add(
            replace(issue, sections=sections, status="approved", approved_at=to_iso(utc_now()))
        )
        rows = [(f"reader{n}@example.org", f"Reader {n}") for n in range(subscribers)]
        store.subscribers.import_rows(rows, "confirmed", "bench")
    return config


def child(side: str, config: str) -> None:
    """One send in this fresh process; prints its seconds and peak RSS as JSON."""
    from cbewatch.config import load_config
    from cbewatch.store import Store

    settings = load_config(Path(config))
    with Store(settings.db_path) as store:
        started, cpu = time.perf_counter(), time.process_time()
        if side == "cbewatch":
            from cbewatch.services.sending import send_issue

            report = send_issue(store, settings, MONTH)
            sent = report.sent
        else:
            sent = asyncio.run(naive(store, settings, side))
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "sent": sent, "peak_kb": peak_kb}))


async def naive(store, settings, side: str) -> int:
    """One SMTP connection per message, one after another. `naive` builds each message
    the obvious way, with the email package (what cbewatch's first sender did);
    `naive_bytes` sends cbewatch's own prepared copies, so that the connections alone
    are compared."""
    import aiosmtplib

    from cbewatch.mail.addresses import sendable_address
    from cbewatch.mail.compose import IssueCopies, base_message
    from cbewatch.mail.links import mail_tokens, unsubscribe_url
    from cbewatch.newsletter.render import UNSUBSCRIBE_PLACEHOLDER
    from cbewatch.services.publishing import issue_mail

    issue = store.issues.published(MONTH)[0]
    mail = issue_mail(settings, issue)
    copies = IssueCopies(settings, mail)
    tokens = mail_tokens(settings)
    smtp, sender = settings.smtp, settings.newsletter.sender
    sent = 0
    for subscriber in store.subscribers.find("confirmed"):
        link = unsubscribe_url(settings, tokens, subscriber)
        to = sendable_address(subscriber.email)
        if side == "naive_bytes":
            message = copies.copy(to, link)
            await aiosmtplib.send(
                message, sender=sender, recipients=[to], hostname=smtp.host, port=smtp.port
            )
        else:
            built = base_message(settings, subscriber.email, mail.subject)
            built["List-Unsubscribe"] = f"<{link}>"
            built["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            text = mail.text.replace(UNSUBSCRIBE_PLACEHOLDER, link)
            html = mail.html.replace(UNSUBSCRIBE_PLACEHOLDER, link)
            built.set_content(text, cte="quoted-printable")
            built.add_alternative(html, subtype="html", cte="quoted-printable")
            await aiosmtplib.send(built, hostname=smtp.host, port=smtp.port)
        sent += 1
    return sent


def sink_cpu(sink: subprocess.Popen) -> float:
    assert sink.stdin is not None and sink.stdout is not None
    sink.stdin.write("\n")
    sink.stdin.flush()
    return float(sink.stdout.readline())


def run_child(side: str, config: Path, sink: subprocess.Popen) -> dict:
    before = sink_cpu(sink)
    done = subprocess.run(
        [sys.executable, "-P", __file__, "--child", side, str(config)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout.strip().splitlines()[-1])
    return {**found, "sink_cpu": sink_cpu(sink) - before}


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    port = free_port()
    sink = subprocess.Popen(
        [sys.executable, "-c", SINK, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert sink.stdout is not None and sink.stdout.readline().strip() == "up"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            best = {side: float("inf") for side in SIDES}
            for round_ in range(ROUNDS):
                for side in SIDES:
                    config = prepare(root / f"{side}{round_}", port, SPEED_SUBSCRIBERS)
                    found = run_child(side, config, sink)
                    assert found["sent"] == SPEED_SUBSCRIBERS, found
                    best[side] = min(best[side], found["seconds"])
                    print(
                        f"{side:11} {SPEED_SUBSCRIBERS} messages in {found['seconds']:.2f} s "
                        f"(CPU: sender {found['cpu']:.2f} s, SMTP sink {found['sink_cpu']:.2f} s)"
                    )
            peaks = {}
            for count in (1_000, 10_000):
                config = prepare(root / f"rss{count}", port, count)
                found = run_child("cbewatch", config, sink)
                assert found["sent"] == count, found
                peaks[count] = found["peak_kb"]
                print(f"cbewatch  {count} messages: peak RSS {found['peak_kb'] / 1024:.1f} MB")
    finally:
        assert sink.stdin is not None
        sink.stdin.close()
        sink.wait(10)
    connections_only = best["naive_bytes"] / best["cbewatch"]
    print(f"send: speedup_vs_naive_same_messages={connections_only:.2f} (connections only)")
    speedup = best["naive"] / best["cbewatch"]
    growth = peaks[10_000] / peaks[1_000]
    print(f"send: speedup_vs_naive={speedup:.2f} rss_growth_10k_vs_1k={growth:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
    else:
        main()
