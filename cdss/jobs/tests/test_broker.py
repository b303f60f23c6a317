"""The embedded broker keeps queued messages in its SQLite file across connections and processes,
and hands each message out once."""

from __future__ import annotations

import sqlite3
import subprocess
import sys

from kombu import Connection, Exchange, Queue
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import event
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.schema import CreateTable

from cdss.jobs.broker import EmbeddedTransport


def _connection(path) -> Connection:
    return Connection(f"sqlite:///{path}", transport=EmbeddedTransport)


def _queue() -> Queue:
    return Queue("q", Exchange("q", type="direct"), routing_key="q")


def _publish_numbers(conn: Connection, count: int) -> None:
    """Queue the messages {"n": 0} ... {"n": count - 1} on ``_queue()``."""
    queue = _queue()
    producer = conn.Producer(serializer="json")
    for i in range(count):
        producer.publish({"n": i}, exchange=queue.exchange, routing_key="q", declare=[queue])


def test_queued_messages_survive_a_restart_and_are_delivered_once(tmp_path):
    path = tmp_path / "broker.sqlite3"
    with _connection(path) as conn:
        _publish_numbers(conn, 3)

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
        assert _queue()(conn.default_channel).get() is None


def _rows(path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT count(*) FROM kombu_message").fetchone()[0])


def test_taken_messages_leave_the_file(tmp_path):
    """kombu keeps every delivered message as an invisible row; ours deletes it once taken, so the
    broker file does not grow with every analysis; rows an older version left go at the next
    take."""
    path = tmp_path / "broker.sqlite3"
    with _connection(path) as conn:
        _publish_numbers(conn, 5)
        bound = _queue()(conn.default_channel)
        got = []
        for _ in range(3):
            message = bound.get()
            got.append(message.payload["n"])
            message.ack()
        assert got == [0, 1, 2]
        assert _rows(path) == 2  # only the two still queued
    # A row an older version left invisible is removed at the next take, in another process.
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


def test_two_processes_creating_the_same_queue_share_one_row(tmp_path):
    """The web server, worker and scheduler start together; two can both find no row for a queue
    and both insert it. The loser must use the winner's row rather than fail (kombu's own code
    let the unique-name IntegrityError escape, and the worker stopped consuming)."""
    path = tmp_path / "broker.sqlite3"
    with _connection(path) as first, _connection(path) as second:
        loser = first.default_channel
        winner = second.default_channel
        raced = []

        def winner_inserts_first(session, flush_context, instances) -> None:
            # The loser has looked and found nothing; the winner's insert commits just before its.
            raced.append(winner._get_or_create("q").id)

        event.listen(loser.session, "before_flush", winner_inserts_first, once=True)
        row = loser._get_or_create("q")
        assert raced and row.id == raced[0]
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM kombu_queue WHERE name = 'q'").fetchone()[0] == 1


def test_two_processes_opening_a_new_file_both_get_its_tables(tmp_path):
    """The other race at start-up: both find kombu's tables missing and both create them."""
    path = tmp_path / "broker.sqlite3"
    queue_table = kombu_sqlalchemy.metadata.tables["kombu_queue"]

    def another_process_creates_them(table, connection, **kw) -> None:
        with sqlite3.connect(path) as db:
            db.execute(str(CreateTable(table).compile(dialect=sqlite_dialect.dialect())))

    event.listen(queue_table, "before_create", another_process_creates_them, once=True)
    try:
        with _connection(path) as conn:
            _publish_numbers(conn, 1)
            assert _queue()(conn.default_channel).get().payload == {"n": 0}
    finally:
        if event.contains(queue_table, "before_create", another_process_creates_them):
            event.remove(queue_table, "before_create", another_process_creates_them)
