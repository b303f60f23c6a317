"""The embedded broker: kombu's SQLAlchemy transport on a SQLite file, for one machine.

Used when ``CELERY_BROKER_URL`` is unset (``settings.CELERY_BROKER_TRANSPORT`` names this class).
Queued messages are rows in one SQLite file (``CDSS_JOBS_BROKER_FILE``, by default
``var/celery-broker.sqlite3``), so they survive a restart of every process, and the transport takes
each message inside ``BEGIN IMMEDIATE``, so two workers never receive the same message.

What this adds to kombu's transport: a polling interval from the settings (kombu would hand the
transport options to SQLAlchemy's ``create_engine``, which refuses unknown ones), WAL mode and a
busy timeout on the SQLite file, and one engine per process (kombu caches engines per class, so a
prefork child would otherwise reuse SQLite connections opened by its parent before the fork).

A message taken by a worker that then dies is not given back by this transport; the sweeper
(``cdss.jobs.services.analysis_sweep``) re-queues that work from the database. So a message is
deleted once it is taken (kombu keeps it as an invisible row that nothing ever reads again, and the
file would grow with every analysis); rows left invisible by older versions go at the next take.

A queue's row is created by whichever process first uses the queue. kombu guards that with a lock
that only covers threads, so when the web server, the worker and the scheduler start together two
of them can both find no row and both insert it; the loser's insert breaks the unique name, which
kombu does not catch. Here the loser rolls back and reads the winner's row (and the same holds for
the tables themselves, in a new file).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from time import monotonic, sleep
from typing import Any

from django.conf import settings
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from kombu.transport.virtual import Empty
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

_engines: dict[tuple[int, str], tuple[Engine, Any]] = {}
_lock = threading.Lock()


def _sqlite_engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return engine


def _create_tables(engine: Engine) -> None:
    """kombu's tables, if missing. Two processes opening a new file together can both find a table
    missing and both create it; the second's CREATE fails, and a second pass finds it there."""
    try:
        kombu_sqlalchemy.metadata.create_all(engine)
    except OperationalError:
        kombu_sqlalchemy.metadata.create_all(engine)


class EmbeddedChannel(kombu_sqlalchemy.Channel):
    def _open(self) -> tuple[Engine, Any]:
        url = self.connection.client.hostname
        key = (os.getpid(), url)
        with _lock:
            if key not in _engines:
                engine = _sqlite_engine(url)
                _create_tables(engine)
                _engines[key] = (engine, sessionmaker(bind=engine))
            return _engines[key]

    def _find_queue(self, queue: str) -> Any:
        return self.session.query(self.queue_cls).filter(self.queue_cls.name == queue).first()

    def _get_or_create(self, queue: str) -> Any:
        """The queue's row, created if missing; safe when several processes create it at once."""
        found = self._find_queue(queue)
        if found is not None:
            return found
        self.session.add(self.queue_cls(queue))
        try:
            self.session.commit()
        except IntegrityError:
            # Another process inserted it between our look and our insert: its row stands.
            self.session.rollback()
        found = self._find_queue(queue)
        if found is None:
            raise RuntimeError(f"broker queue {queue!r} could not be created")
        return found

    def _get(self, queue: Any, timeout: Any = None) -> Any:
        """kombu's ``_get``, then the rows it marked taken (invisible) are deleted: nothing reads
        them again, and kept they would grow the file by one row per analysis."""
        payload = super()._get(queue)
        self.session.query(self.message_cls).filter(
            self.message_cls.visible == False  # noqa: E712  (an SQL expression, not a Python test)
        ).delete(synchronize_session=False)
        self.session.commit()
        return payload


# While every consumer is at its prefetch limit no poll touches the database, so waiting for a
# slot to free up can be short without cost; an empty queue waits the full polling interval.
_SLOT_WAIT = 0.01


class EmbeddedTransport(kombu_sqlalchemy.Transport):
    Channel = EmbeddedChannel

    def __init__(self, client: Any, **kwargs: Any) -> None:
        super().__init__(client, **kwargs)
        self.polling_interval = float(settings.CDSS_JOBS_BROKER_POLL_SECONDS)

    def _at_prefetch_limit(self) -> bool:
        return any(ch._consumers and not ch.qos.can_consume() for ch in self.channels)

    def drain_events(self, connection: Any, timeout: Any = None, **kwargs: Any) -> None:
        """kombu's loop, except that a worker whose slots are all busy looks again as soon as
        one frees (kombu would sleep a whole polling interval after every acknowledgement)."""
        assert self.cycle is not None
        started = monotonic()
        while True:
            try:
                self.cycle.get(self._deliver, timeout=timeout)
                return
            except Empty:
                if timeout is not None and monotonic() - started >= timeout:
                    raise TimeoutError() from None
                sleep(_SLOT_WAIT if self._at_prefetch_limit() else self.polling_interval)
