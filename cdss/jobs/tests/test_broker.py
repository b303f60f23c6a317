"""The embedded broker keeps queued messages in its SQLite file across connections and processes,
and hands each message out once."""

from __future__ import annotations

import subprocess
import sys

from kombu import Connection, Exchange, Queue

from cdss.jobs.broker import EmbeddedTransport


def _connection(path) -> Connection:
    return Connection(f"sqlite:///{path}", transport=EmbeddedTransport)


def test_queued_messages_survive_a_restart_and_are_delivered_once(tmp_path):
    path = tmp_path / "broker.sqlite3"
    queue = Queue("q", Exchange("q", type="direct"), routing_key="q")
    with _connection(path) as conn:
        producer = conn.Producer(serializer="json")
        for i in range(3):
            producer.publish({"n": i}, exchange=queue.exchange, routing_key="q", declare=[queue])

    # Another process (a restarted worker) finds them in the file, in order, each once.
    script = (
        "import json, sys\n"
        "from kombu import Connection, Queue, Exchange\n"
        "import django; django.setup()\n"
        "from cdss.jobs.broker import EmbeddedTransport\n"
        f"conn = Connection('sqlite:///{path}', transport=EmbeddedTransport)\n"
        "q = Queue('q', Exchange('q', type='direct'), routing_key='q')(conn.default_channel)\n"
        "got = []\n"
        "while (m := q.get()) is not None:\n"
        "    got.append(m.payload['n']); m.ack()\n"
        "print(json.dumps(got))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[0, 1, 2]"
    with _connection(path) as conn:
        assert (
            Queue("q", Exchange("q", type="direct"), routing_key="q")(conn.default_channel).get()
            is None
        )


def _rows(path) -> int:
    import sqlite3

    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM kombu_message").fetchone()[0])


def test_taken_messages_leave_the_file(tmp_path):
    """kombu keeps every delivered message as an invisible row; ours deletes it once taken, so the
    broker file does not grow with every analysis; rows an older version left go at the next
    take."""
    path = tmp_path / "broker.sqlite3"
    queue = Queue("q", Exchange("q", type="direct"), routing_key="q")
    with _connection(path) as conn:
        producer = conn.Producer(serializer="json")
        for i in range(5):
            producer.publish({"n": i}, exchange=queue.exchange, routing_key="q", declare=[queue])
        bound = queue(conn.default_channel)
        got = []
        for _ in range(3):
            message = bound.get()
            got.append(message.payload["n"])
            message.ack()
        assert got == [0, 1, 2]
        assert _rows(path) == 2  # only the two still queued
    # A row an older version left invisible is removed at the next take, in another process.
    import sqlite3

    with sqlite3.connect(path) as db:
        db.execute(
            "UPDATE kombu_message SET visible = 0 WHERE id = (SELECT min(id) FROM kombu_message)"
        )
    script = (
        "import django; django.setup()\n"
        "from kombu import Connection, Queue, Exchange\n"
        "from cdss.jobs.broker import EmbeddedTransport\n"
        f"conn = Connection('sqlite:///{path}', transport=EmbeddedTransport)\n"
        "q = Queue('q', Exchange('q', type='direct'), routing_key='q')(conn.default_channel)\n"
        "m = q.get(); print(m.payload['n']); m.ack()\n"
        "print(q.get())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["4", "None"]
    assert _rows(path) == 0
