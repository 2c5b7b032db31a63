"""The notebooks that ship with the package: copied for a user, a user's edits never lost."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from argyle_nb.cli import main
from argyle_nb.errors import ArgyleValueError
from argyle_nb.packaged import COPIES, RECORD, copy_notebooks, notebooks_for, packaged_notebooks

REPOSITORY_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def notebook(text: str) -> str:
    """A small valid notebook whose one cell says ``text``."""
    cell = {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": [text]}
    return json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5})


def shipped(tmp_path: Path, **texts: str) -> Path:
    """A folder standing for the packaged notebooks, one per ``name=text``."""
    folder = tmp_path / "shipped"
    folder.mkdir(exist_ok=True)
    for name, text in texts.items():
        (folder / f"{name}.ipynb").write_text(notebook(text), encoding="utf-8")
    return folder


def test_a_source_checkout_ships_the_repository_notebooks() -> None:
    found = packaged_notebooks()
    assert sorted(p.name for p in found.glob("*.ipynb")) == sorted(
        p.name for p in REPOSITORY_NOTEBOOKS.glob("*.ipynb")
    )


def test_every_packaged_notebook_is_copied_as_it_is(tmp_path: Path) -> None:
    said = copy_notebooks(tmp_path / "mine")
    originals = sorted(REPOSITORY_NOTEBOOKS.glob("*.ipynb"))
    assert said == [f"copied {p.name}" for p in originals]
    for original in originals:
        assert (tmp_path / "mine" / original.name).read_bytes() == original.read_bytes()


def test_a_newer_version_replaces_a_copy_nobody_edited(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    copy_notebooks(mine, source=shipped(tmp_path, a="one", b="one"))
    said = copy_notebooks(mine, source=shipped(tmp_path, a="two", b="one"))
    assert said == ["updated a.ipynb (you had not edited it)"]
    assert json.loads((mine / "a.ipynb").read_text())["cells"][0]["source"] == ["two"]
    assert not (mine / "a.new.ipynb").exists()


def test_an_edited_copy_is_never_overwritten_the_newer_goes_beside(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    copy_notebooks(mine, source=shipped(tmp_path, a="one"))
    (mine / "a.ipynb").write_text(notebook("my analysis"), encoding="utf-8")
    said = copy_notebooks(mine, source=shipped(tmp_path, a="two"))
    beside = "the newer packaged version is beside it: a.new.ipynb"
    assert said == [f"kept your edited a.ipynb; {beside}"]
    assert json.loads((mine / "a.ipynb").read_text())["cells"][0]["source"] == ["my analysis"]
    assert json.loads((mine / "a.new.ipynb").read_text())["cells"][0]["source"] == ["two"]
    # Asked again: still the user's, and still said.
    assert copy_notebooks(mine, source=shipped(tmp_path, a="two"))[0].startswith("kept your")
    assert json.loads((mine / "a.ipynb").read_text())["cells"][0]["source"] == ["my analysis"]


def test_a_file_argyle_nb_did_not_write_is_the_users(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "a.ipynb").write_text(notebook("theirs"), encoding="utf-8")
    (mine / RECORD).write_text("not json", encoding="utf-8")  # a damaged record: no record
    said = copy_notebooks(mine, source=shipped(tmp_path, a="ours"))
    assert said[0].startswith("kept your edited a.ipynb")
    assert json.loads((mine / "a.ipynb").read_text())["cells"][0]["source"] == ["theirs"]


def test_nothing_new_says_so(tmp_path: Path) -> None:
    source = shipped(tmp_path, a="one", b="two")
    copy_notebooks(tmp_path / "mine", source=source)
    again = copy_notebooks(tmp_path / "mine", source=source)
    assert again == ["all 2 notebooks already up to date"]


def test_a_file_is_no_folder_for_notebooks(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArgyleValueError, match="is a file"):
        copy_notebooks(tmp_path / "file")


def test_lab_and_report_use_notebooks_here_else_the_packaged_copies(tmp_path: Path) -> None:
    assert notebooks_for("given") == (Path("given"), [])
    (tmp_path / "notebooks").mkdir()
    assert notebooks_for(None, cwd=tmp_path) == (tmp_path / "notebooks", [])
    empty = tmp_path / "empty"
    empty.mkdir()
    folder, said = notebooks_for(None, cwd=empty)
    assert folder == empty / COPIES and "the packaged notebooks are in" in said[0]
    assert sorted(p.name for p in folder.glob("*.ipynb")) == sorted(
        p.name for p in REPOSITORY_NOTEBOOKS.glob("*.ipynb")
    )


def test_the_notebooks_command_copies_and_says_how_to_open_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notebooks", str(tmp_path / "tutorials")]) == 0
    out = capsys.readouterr().out
    assert "copied 01_getting_started.ipynb" in out
    assert f"argyle-nb lab --notebooks {tmp_path / 'tutorials'}" in out
    (tmp_path / "file").write_text("x")
    assert main(["notebooks", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err


def test_packaged_all_is_pinned() -> None:
    from argyle_nb import packaged

    assert set(packaged.__all__) == {
        "COPIES",
        "RECORD",
        "copy_notebooks",
        "notebooks_for",
        "packaged_notebooks",
    }
