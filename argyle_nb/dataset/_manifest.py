"""``_dataset.json``: what a version of a dataset holds (one table of what a valid one is),
and its check against the part files' Parquet footers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from argyle_nb.errors import ArgyleValueError

__all__ = [
    "MANIFEST",
    "MAX_MANIFEST_BYTES",
    "REEXPORT",
    "TABLES",
    "DatasetError",
    "Fact",
    "Manifest",
    "Part",
]

MANIFEST: Final = "_dataset.json"
#: A manifest is small (a line per part file): a larger one is not ours.
MAX_MANIFEST_BYTES: Final = 64 << 20
#: The tables of a dataset.
TABLES: Final = ("users", "accounts", "availability", "rejected")
#: The columns every part of a table has (what the analyses read).
COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "users": ("id", "created_at", "external_metadata"),
    "accounts": ("id", "user", "link_item", "connection_status", "connection_error_code"),
    "availability": ("account", "resource", "status"),
    "rejected": ("endpoint", "error", "raw"),
}
#: What to do about a version whose files disagree with its manifest.
REEXPORT: Final = "the dataset is damaged: export it again (client.export or argyle-nb export)"


class DatasetError(ArgyleValueError):
    """A dataset that cannot be written or read (the message says which and why).

    An :class:`~argyle_nb.errors.ArgyleError` and a ``ValueError``.
    """


class Part(BaseModel):
    """One Parquet file of a version: its path in the version, table, list and rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str = Field(pattern=r"^[a-z]+/[A-Za-z0-9_.-]+\.parquet$")
    table: str
    endpoint: str
    rows: int = Field(ge=0)

    @field_validator("table")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in TABLES:
            raise ValueError(f"not a table of a dataset: {value!r}")
        return value


class Fact(BaseModel):
    """A table derived from a version's records when it was written (what every user did,
    the metadata keys' sizes...: :func:`~argyle_nb.analysis.facts`), so the analyses of
    the version read it rather than compute it: its name, file and rows."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^_?[a-z][a-z0-9_]*$", max_length=64)
    rows: int = Field(ge=0)

    @property
    def file(self) -> str:
        """Its path in the version."""
        return f"{FACTS}/{self.name}.parquet"


#: The folder of a version's facts (:class:`Fact`).
FACTS: Final = "facts"


class Manifest(BaseModel):
    """A version: its name, when it was written, each list's provenance, its files and
    the facts derived from them (none in a version written before facts were kept)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = 1
    version: str
    written_at: datetime
    lists: dict[str, dict[str, Any]]
    parts: list[Part]
    facts: list[Fact] = []

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of a version folder, checked against each part's Parquet footer
        (table, list, version, rows, columns; the rows themselves are not read).

        Raises:
            DatasetError: it is not a version, or a file disagrees with it (which, and
                what to do).
        """
        file = folder / MANIFEST
        try:
            size = file.stat().st_size
            if size > MAX_MANIFEST_BYTES:
                raise DatasetError(f"{file} holds {size:,} bytes: not a dataset manifest")
            manifest = cls.model_validate_json(file.read_bytes())
        except OSError as exc:
            raise DatasetError(
                f"{folder} is not an argyle_nb dataset: no {MANIFEST} ({exc})"
            ) from None
        except ValidationError as exc:
            first = exc.errors()[0]
            at = ".".join(str(p) for p in first["loc"])
            raise DatasetError(f"{file} is damaged: {at}: {first['msg']}") from None
        for part in manifest.parts:
            _check(folder, manifest.version, part)
        for fact in manifest.facts:
            _check_fact(folder, manifest.version, fact)
        return manifest


def _footer(file: Path) -> tuple[pq.FileMetaData, dict[str, Any]]:
    """A Parquet file's footer and what argyle_nb wrote in it (``{}``: nothing)."""
    try:
        footer = pq.read_metadata(file)
        said = orjson.loads((footer.metadata or {}).get(b"argyle_nb", b"null"))
    except FileNotFoundError:
        raise DatasetError(
            f"{file.parent.parent} is incomplete: {file} is missing; {REEXPORT}"
        ) from None
    except (OSError, ValueError, pa.ArrowException) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DatasetError(
            f"{file} is not a readable Parquet file ({reason}); {REEXPORT}"
        ) from None
    return footer, said if isinstance(said, dict) else {}


def _check_fact(folder: Path, version: str, fact: Fact) -> None:
    """``fact`` is what the manifest says: a Parquet file of that fact, version and rows."""
    file = folder / fact.file
    footer, said = _footer(file)
    if (said.get("fact"), said.get("version")) != (fact.name, version):
        raise DatasetError(
            f"{file} holds the fact {said.get('fact')} of version {said.get('version')}, but "
            f"{folder / MANIFEST} lists it as {fact.name} of version {version}; {REEXPORT}"
        )
    if footer.num_rows != fact.rows:
        raise DatasetError(
            f"{file} holds {footer.num_rows:,} rows, but {folder / MANIFEST} says "
            f"{fact.rows:,}; {REEXPORT}"
        )


def _check(folder: Path, version: str, part: Part) -> None:
    """``part`` is what the manifest says: its file is a Parquet file (its footer is read,
    not its rows) of the same table, list, version and rows, with the table's columns."""
    file = folder / part.file
    if part.file.partition("/")[0] != part.table:
        raise DatasetError(
            f"{folder / MANIFEST} lists {part.file} under the table {part.table}; {REEXPORT}"
        )
    footer, said = _footer(file)
    try:
        names = footer.schema.to_arrow_schema().names
    except (ValueError, pa.ArrowException) as exc:
        raise DatasetError(f"{file} has an unreadable schema ({exc}); {REEXPORT}") from None
    wrote = (said.get("table"), said.get("endpoint"), said.get("version"))
    if wrote != (part.table, part.endpoint, version):
        raise DatasetError(
            f"{file} holds {wrote[0]} of {wrote[1]} (version {wrote[2]}), but "
            f"{folder / MANIFEST} lists it as {part.table} of {part.endpoint} (version "
            f"{version}); {REEXPORT}"
        )
    if footer.num_rows != part.rows:
        raise DatasetError(
            f"{file} holds {footer.num_rows:,} rows, but {folder / MANIFEST} says "
            f"{part.rows:,}; {REEXPORT}"
        )
    missing = [c for c in COLUMNS[part.table] if c not in names]
    if missing:
        raise DatasetError(
            f"{file} lacks the {part.table} column(s) {', '.join(missing)}; {REEXPORT}"
        )
