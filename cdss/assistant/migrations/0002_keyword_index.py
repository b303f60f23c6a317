"""The keyword index of chunks' ``terms``: an FTS5 table kept by triggers on SQLite, a GIN index on
``to_tsvector('simple', terms)`` on PostgreSQL (cdss.assistant.search reads either). Other
databases have none; retrieval there is by vectors alone.

A later migration that makes Django rebuild ``assistant_chunk`` on SQLite (most column changes)
drops these triggers with the old table: it must create them again (``SQLITE_TRIGGERS``).
"""

from typing import Any

from django.db import migrations

SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS assistant_chunk_fts USING fts5("
    "terms, content='assistant_chunk', content_rowid='id', tokenize='unicode61')",
    "INSERT INTO assistant_chunk_fts(assistant_chunk_fts) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = [
    "CREATE TRIGGER IF NOT EXISTS assistant_chunk_fts_ai AFTER INSERT ON assistant_chunk BEGIN "
    "INSERT INTO assistant_chunk_fts(rowid, terms) VALUES (new.id, new.terms); END",
    "CREATE TRIGGER IF NOT EXISTS assistant_chunk_fts_ad AFTER DELETE ON assistant_chunk BEGIN "
    "INSERT INTO assistant_chunk_fts(assistant_chunk_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); END",
    "CREATE TRIGGER IF NOT EXISTS assistant_chunk_fts_au AFTER UPDATE OF terms ON assistant_chunk "
    "BEGIN INSERT INTO assistant_chunk_fts(assistant_chunk_fts, rowid, terms) "
    "VALUES ('delete', old.id, old.terms); "
    "INSERT INTO assistant_chunk_fts(rowid, terms) VALUES (new.id, new.terms); END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS assistant_chunk_fts_ai",
    "DROP TRIGGER IF EXISTS assistant_chunk_fts_ad",
    "DROP TRIGGER IF EXISTS assistant_chunk_fts_au",
    "DROP TABLE IF EXISTS assistant_chunk_fts",
]
POSTGRES_CREATE = [
    "CREATE INDEX IF NOT EXISTS assistant_chunk_terms_fts ON assistant_chunk "
    "USING gin (to_tsvector('simple', terms))",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS assistant_chunk_terms_fts"]


def _run(statements: dict[str, list[str]]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        for statement in statements.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("assistant", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE_CREATE + SQLITE_TRIGGERS, "postgresql": POSTGRES_CREATE}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
