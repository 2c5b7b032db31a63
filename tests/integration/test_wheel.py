"""Installed as a user installs it: from a built wheel, not this checkout.

The sdist and the wheel are built (``python -m build``) and checked (``twine check``);
the wheel is installed, not editable, with the ``[lab]`` extra, in a fresh virtual
environment; then ``argyle-nb lab`` runs in an empty folder (as whoever runs the tests:
root in CI), the tutorial's first cells run through Lab's REST API, and ``argyle-nb
notebooks DIR`` copies the notebooks. Everything started is stopped by PID.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.lab import free_port
from tests.integration.test_make_lab import Lab, _group, _run_tutorial_start, started_lab

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _run(*command: str | Path, cwd: Path | None = None, timeout: float = 900) -> str:
    done = subprocess.run(
        [str(c) for c in command],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel of this checkout."""
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", out, ROOT, cwd=ROOT)
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def installed(built: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and its ``[lab]`` extra: its bin/."""
    venv = tmp_path_factory.mktemp("venv")
    _run(sys.executable, "-m", "venv", venv)
    bin_ = venv / "bin"
    wheel = f"argyle_nb[lab] @ {built[1].as_uri()}"
    _run(bin_ / "python", "-m", "pip", "install", "--quiet", wheel)
    return bin_


def test_both_archives_pass_twine_check(built: tuple[Path, Path]) -> None:
    said = _run(sys.executable, "-m", "twine", "check", "--strict", *built)
    assert said.count("PASSED") == 2, said


def test_the_wheel_carries_the_notebooks_and_the_sdist_their_source(
    built: tuple[Path, Path],
) -> None:
    sdist, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        for notebook in NOTEBOOKS:
            packaged = archive.read(f"argyle_nb/_notebooks/{notebook.name}")
            assert packaged == notebook.read_bytes(), notebook.name
        names = archive.namelist()
    assert "argyle_nb/py.typed" in names
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "benchmarks/"))]
    with tarfile.open(sdist) as archive:
        inside = {Path(*Path(n).parts[1:]).as_posix() for n in archive.getnames()}
    assert {f"notebooks/{n.name}" for n in NOTEBOOKS} <= inside
    assert "argyle_nb/__init__.py" in inside and "pyproject.toml" in inside


def test_the_installed_command_copies_the_notebooks(installed: Path, tmp_path: Path) -> None:
    said = _run(installed / "argyle-nb", "notebooks", tmp_path / "tutorials", cwd=tmp_path)
    assert "copied 01_getting_started.ipynb" in said
    copied = sorted(p.name for p in (tmp_path / "tutorials").glob("*.ipynb"))
    assert copied == [n.name for n in NOTEBOOKS]


@pytest.fixture
def lab_in_an_empty_folder(installed: Path, tmp_path: Path) -> Iterator[tuple[Lab, Path]]:
    folder = tmp_path / "work"
    folder.mkdir()
    lab_args = ["--", f"--port={free_port()}", "--ServerApp.port_retries=0"]
    command = [str(installed / "argyle-nb"), "lab", *lab_args]
    with started_lab(command, folder, tmp_path / "home", path=installed) as lab:
        yield lab, folder
    assert _group(lab.process.pid) == []


def test_argyle_nb_lab_from_the_wheel_opens_the_packaged_notebooks(
    lab_in_an_empty_folder: tuple[Lab, Path],
) -> None:
    lab, folder = lab_in_an_empty_folder
    assert lab.ready.wait(240), f"no banner in 240 s:\n{lab.output()}"
    assert lab.token, f"no login URL with a token:\n{lab.output()}"
    assert "the packaged notebooks are in" in lab.output()
    copies = folder / "argyle_nb_notebooks"
    assert sorted(p.name for p in copies.glob("*.ipynb")) == [n.name for n in NOTEBOOKS]
    shown, (_, _, base_url) = _run_tutorial_start(lab)
    assert "environment='embedded sandbox'" in shown, shown
    assert base_url == lab.sandbox_url
