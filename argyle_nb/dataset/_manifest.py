"""``_dataset.json``: what a version of a dataset holds (one table of what a valid one is)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["MANIFEST", "MAX_MANIFEST_BYTES", "TABLES", "DatasetError", "Manifest", "Part"]

MANIFEST: Final = "_dataset.json"
#: A manifest is small (a line per part file): a larger one is not ours.
MAX_MANIFEST_BYTES: Final = 64 << 20
#: The tables of a dataset.
TABLES: Final = ("users", "accounts", "availability", "rejected")


class DatasetError(ValueError):
    """A dataset that cannot be written or read (the message says which and why)."""


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


class Manifest(BaseModel):
    """A version: its name, when it was written, each list's provenance and its files."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: int = 1
    version: str
    written_at: datetime
    lists: dict[str, dict[str, Any]]
    parts: list[Part]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of a version folder, checked; :class:`DatasetError` if it is not one."""
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
            if not (folder / part.file).is_file():
                raise DatasetError(f"{folder} is incomplete: {part.file} is missing")
        return manifest
