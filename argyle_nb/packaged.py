"""The notebooks that ship with argyle_nb, and the user's copies of them.

An installed wheel carries the tutorial notebooks in ``argyle_nb/_notebooks/`` (the
build copies the repository's ``notebooks/`` there: one source in git); a source
checkout uses ``notebooks/`` itself. :func:`copy_notebooks` copies them into a folder of
the user's and remembers what it wrote (``.argyle_nb_notebooks.json``: each file's
SHA-256), so that a later copy never overwrites a notebook the user has edited: a newer
packaged version goes beside it, and the message says so.

Examples:
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp()) / "mine"
    >>> said = copy_notebooks(folder)
    >>> sorted(p.name for p in folder.glob("*.ipynb"))[0]
    '01_getting_started.ipynb'
    >>> copy_notebooks(folder)[-1]
    'all 6 notebooks already up to date'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from argyle_nb.errors import ArgyleRuntimeError, ArgyleValueError

__all__ = ["COPIES", "RECORD", "copy_notebooks", "notebooks_for", "packaged_notebooks"]

#: Where ``argyle-nb lab`` and ``argyle-nb report`` put the notebooks when the folder
#: they run in has no ``notebooks/``.
COPIES = "argyle_nb_notebooks"
#: The file, in a folder of copies, that says what was copied (name -> SHA-256).
RECORD = ".argyle_nb_notebooks.json"
#: The most bytes one packaged notebook may have (they are a few hundred kilobytes).
_MAX_NOTEBOOK = 50_000_000


def packaged_notebooks() -> Path:
    """The folder of the notebooks shipped with this installation.

    Raises:
        ArgyleRuntimeError: this installation has none (a wheel built without them).
    """
    here = Path(__file__).resolve().parent
    for folder in (here / "_notebooks", here.parent / "notebooks"):
        if any(folder.glob("*.ipynb")):
            return folder
    raise ArgyleRuntimeError(
        f"this installation of argyle_nb has no notebooks (looked in {here / '_notebooks'}):"
        " reinstall it from a wheel or a source checkout"
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_record(folder: Path) -> dict[str, str]:
    """What was copied into ``folder`` before (nothing: no record, or one not ours)."""
    try:
        raw = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = raw.get("files") if isinstance(raw, dict) else None
    if not isinstance(files, dict):
        return {}
    return {str(k): str(v) for k, v in files.items() if isinstance(v, str)}


def copy_notebooks(folder: str | os.PathLike[str], *, source: Path | None = None) -> list[str]:
    """Copy the packaged notebooks into ``folder`` (made if missing); what was done, in
    lines a person reads.

    A notebook not there yet is copied. One copied before and not edited since is
    replaced by a newer packaged version. One the user edited (or a file of the same name
    that argyle_nb did not write) is never touched: a newer packaged version is written
    beside it as ``<name>.new.ipynb``, and the lines say so.

    Args:
        folder: where the copies go.
        source: the folder copied from (default: :func:`packaged_notebooks`).

    Raises:
        ArgyleValueError: ``folder`` is a file.
    """
    target = Path(folder)
    if target.exists() and not target.is_dir():
        raise ArgyleValueError(f"{target} is a file, not a folder for the notebooks")
    origin = source if source is not None else packaged_notebooks()
    target.mkdir(parents=True, exist_ok=True)
    record = _read_record(target)
    said: list[str] = []
    unchanged = 0
    shipped = sorted(p for p in origin.glob("*.ipynb") if p.stat().st_size <= _MAX_NOTEBOOK)
    for notebook in shipped:
        name, new = notebook.name, _digest(notebook)
        copy = target / name
        if not copy.exists():
            shutil.copyfile(notebook, copy)
            said.append(f"copied {name}")
        elif _digest(copy) == new:
            unchanged += 1
        elif record.get(name) == _digest(copy):  # ours, as we wrote it: not edited
            shutil.copyfile(notebook, copy)
            said.append(f"updated {name} (you had not edited it)")
        else:
            beside = copy.with_suffix(".new.ipynb")
            shutil.copyfile(notebook, beside)
            said.append(
                f"kept your edited {name}; the newer packaged version is beside it: {beside.name}"
            )
            continue  # the record keeps what we wrote before, not the user's file
        record[name] = new
    (target / RECORD).write_text(
        json.dumps({"files": record}, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    if unchanged == len(shipped):
        said.append(f"all {len(shipped)} notebooks already up to date")
    return said


def notebooks_for(given: str | None, *, cwd: Path | None = None) -> tuple[Path, list[str]]:
    """The folder ``argyle-nb lab`` or ``report`` runs on, and what was done to have it.

    ``given`` (``--notebooks``) is used as it is. Without it: ``./notebooks`` where there is
    one (a source checkout), else the packaged notebooks copied into ``./argyle_nb_notebooks``
    (:func:`copy_notebooks`: a user's edits are kept).
    """
    if given is not None:
        return Path(given), []
    here = cwd or Path.cwd()
    if (here / "notebooks").is_dir():
        return here / "notebooks", []
    folder = here / COPIES
    said = copy_notebooks(folder)
    return folder, [f"no notebooks/ here: the packaged notebooks are in {folder}", *said]
