"""The formats of the database's two files: a snapshot and a write-ahead log.

The snapshot (``prospect-mock.json``) is a TinyDB JSON file: every table as ``{id: record}``,
plus a ``meta`` table with the format version and the snapshot's generation (a random
name). It is laid out one record per line, so that a large one can be read a record at a
time. The log (``prospect-mock.json.wal``) starts with a header naming the generation of the
snapshot it follows (and, while a fold writes a new snapshot, the generation it continues
from), then holds one line per write: a CRC-32 and the write as JSON.

Only reading happens here; :mod:`~prospect_mock.storage.log_and_snapshot` decides when and
how files change.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from prospect_mock.storage.json_codec import dumps

__all__ = [
    "FORMAT_VERSION",
    "CorruptDatabaseError",
    "EncodedTable",
    "check_format",
    "created_at_of",
    "encode_table",
    "log_header",
    "log_header_line",
    "log_line",
    "read_log",
    "read_snapshot",
    "snapshot_chunks",
    "tables_of",
]

FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, FORMAT_VERSION)
"""Version 1 is the same snapshot without a log."""
_META_TABLE = "meta"
_ABOUT = "database"
"""The meta table's record that describes the database itself."""
_LOG_MAGIC = "prospect-mock-wal"
READ_WHOLE_UP_TO = 32 * 2**20
"""A larger snapshot is read a record at a time: three times slower than in one piece, but
its text is never in memory beside its records."""
_CHUNK_BYTES = 2**20


class CorruptDatabaseError(Exception):
    """The database file exists but cannot be used; it is left untouched."""


def read_snapshot(path: Path) -> dict[str, Any] | None:
    """Return the file's tables, or None for a missing or empty file (a new database)."""
    try:
        if path.stat().st_size > READ_WHOLE_UP_TO:
            return _read_record_per_line(path)
    except FileNotFoundError:
        return None
    except _OtherLayout:
        pass  # written by something else, or damaged: read whole, to say what is wrong
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise CorruptDatabaseError(f"{path} is not a JSON database file ({error}).") from error
    if not text.strip():
        return None
    try:
        data = json.loads(text, object_pairs_hook=_SharedStrings().object_from)
    except json.JSONDecodeError as error:
        raise CorruptDatabaseError(f"{path} is not a JSON database file ({error}).") from error
    if not isinstance(data, dict):
        raise CorruptDatabaseError(
            f"{path} holds JSON, but not a database: its top level is not an object."
        )
    return data


class _OtherLayout(Exception):
    """The file is not laid out as :func:`write_snapshot` lays it out."""


def _read_record_per_line(path: Path) -> dict[str, Any]:
    """Read a snapshot one record at a time (at 100,000 prospects, reading it whole would
    need 170 MB more at start-up)."""
    shared = _SharedStrings().object_from
    data: dict[str, Any] = {}
    table: dict[str, Any] | None = None
    try:
        with path.open(encoding="utf-8", newline="\n") as file:
            if file.readline() != "{\n":
                raise _OtherLayout
            for line in file:
                if table is None and line == "}\n":
                    return data
                if table is None and line.endswith(": {\n"):
                    table = data[json.loads(line[: -len(": {\n")])] = {}
                elif table is not None and line in ("}\n", "},\n"):
                    table = None
                elif table is not None:
                    row = "{" + line.removesuffix("\n").removesuffix(",") + "}"
                    table.update(json.loads(row, object_pairs_hook=shared))
                else:
                    raise _OtherLayout
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise _OtherLayout from error
    raise _OtherLayout  # no closing brace: a file cut short


class _SharedStrings:
    """Makes each repeated text value one shared string while the snapshot is parsed.

    The JSON parser makes a new string for every occurrence of a value; industries,
    territories, owners and stages repeat across thousands of records, and at 100,000
    prospects their copies were a third of the server's memory. ``id`` values never repeat,
    so they are not looked up; the tables' keys, ids too, are, as every key is, which costs
    a dict of a few hundred thousand entries for as long as the file is read.
    """

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def object_from(self, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        # Keys too: the parser shares them only within one call, and a snapshot is parsed
        # a line at a time.
        strings = self._strings
        return {
            strings.setdefault(key, key): strings.setdefault(value, value)
            if type(value) is str and key != "id"
            else value
            for key, value in pairs
        }


def check_format(path: Path, snapshot: dict[str, Any]) -> str:
    """The snapshot's generation, after checking that it is a database this version reads."""
    if not snapshot:
        return ""
    meta = snapshot.get(_META_TABLE, {}).get("format")
    version = meta.get("version") if isinstance(meta, dict) else None
    if version not in _READABLE_VERSIONS:
        raise CorruptDatabaseError(
            f"{path} is not a prospect-mock database of format {FORMAT_VERSION} "
            f"(it says {version!r}); it was left untouched."
        )
    return str(meta.get("generation", ""))


def created_at_of(snapshot: dict[str, Any]) -> str | None:
    """When the database was created, as its snapshot says (older snapshots do not)."""
    about = snapshot.get(_META_TABLE, {}).get(_ABOUT)
    return str(about["created_at"]) if isinstance(about, dict) and "created_at" in about else None


def tables_of(snapshot: dict[str, Any]) -> dict[str, Iterable[dict[str, Any]]]:
    """The snapshot's tables, each as its records."""
    return {
        name: records.values()
        for name, records in snapshot.items()
        if name != _META_TABLE and isinstance(records, dict)
    }


class EncodedTable(str):
    """A table's records already laid out as a snapshot holds them (:func:`encode_table`),
    for a data set written many times: a seed, into every new workspace."""


def encode_table(records: Iterable[dict[str, Any]]) -> EncodedTable:
    return EncodedTable("".join(_table_lines((record["id"], record) for record in records)))


def snapshot_chunks(
    tables: dict[str, Iterable[dict[str, Any]] | EncodedTable], generation: str, created_at: str
) -> Iterator[bytes]:
    """The snapshot of ``tables`` as ``generation`` of a database created at ``created_at``,
    in pieces of about a megabyte."""
    pending: list[str] = []
    size = 0
    meta = {"format": {"version": FORMAT_VERSION, "generation": generation}}
    meta[_ABOUT] = {"created_at": created_at}
    for line in _snapshot_lines({**tables, _META_TABLE: meta.items()}):
        pending.append(line)
        size += len(line)
        if size >= _CHUNK_BYTES:
            yield "".join(pending).encode()
            pending, size = [], 0
    yield "".join(pending).encode()


def _snapshot_lines(tables: dict[str, Iterable[Any]]) -> Iterator[str]:
    """The snapshot as JSON that TinyDB reads like any other, laid out one record per line
    so that :func:`_read_record_per_line` can read it a record at a time. The meta table
    comes as (key, record) pairs, the others as records keyed by their ``id``, or encoded."""
    yield "{\n"
    for number, (name, records) in enumerate(tables.items(), start=1):
        yield f"{_encode(name)}: {{"
        if isinstance(records, EncodedTable):
            yield records
        elif name == _META_TABLE:
            yield from _table_lines(records)
        else:
            yield from _table_lines((record["id"], record) for record in records)
        yield "\n}\n" if number == len(tables) else "\n},\n"
    yield "}\n"


def _table_lines(pairs: Iterable[tuple[str, Any]]) -> Iterator[str]:
    separator = "\n"
    for key, record in pairs:
        yield f"{separator}{_encode(key)}: {_encode(record)}"
        separator = ",\n"


def log_header_line(generation: str, after: str = "") -> bytes:
    """The log's first line: it follows the snapshot ``generation`` or, while a fold writes
    that snapshot, continues the log of the snapshot ``after``."""
    return f"{_LOG_MAGIC} {generation}{f' after {after}' if after else ''}\n".encode()


def log_line(entry: dict[str, Any]) -> bytes:
    line = dumps(entry)
    return b"%08x %s\n" % (zlib.crc32(line), line)


def log_header(path: Path) -> tuple[str, str] | None:
    """The log's generation, and the generation it continues from ("" if none), or None
    for a missing file or one that is not a log."""
    try:
        with path.open("rb") as file:
            words = file.readline().decode(errors="replace").removesuffix("\n").split(" ")
    except FileNotFoundError:
        return None
    if words[0] != _LOG_MAGIC or len(words) not in (2, 4):
        return None
    return words[1], words[3] if len(words) == 4 else ""


def read_log(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The log's entries, oldest first, and the offset where the last whole one ends."""
    header, _, body = path.read_bytes().partition(b"\n")
    entries, end = _parse_entries(path, body)
    return entries, len(header) + 1 + end


def _parse_entries(path: Path, body: bytes) -> tuple[list[dict[str, Any]], int]:
    """Every whole entry of ``body`` and the offset where the last one ends."""
    entries: list[dict[str, Any]] = []
    end = 0
    lines = body.split(b"\n")
    for number, line in enumerate(lines[:-1], start=2):
        entry = _parse_entry(line)
        if entry is None:
            if number - 2 < len(lines) - 2 or lines[-1]:
                raise CorruptDatabaseError(
                    f"{path} line {number} is damaged and more entries follow it; "
                    f"the files were left untouched."
                )
            break
        entries.append(entry)
        end += len(line) + 1
    return entries, end


def _parse_entry(line: bytes) -> dict[str, Any] | None:
    checksum, _, text = line.partition(b" ")
    try:
        if int(checksum, 16) != zlib.crc32(text):
            return None
        entry = json.loads(text)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None


def _encode(data: Any) -> str:
    return dumps(data).decode()
