"""The stored fixtures are the reference pages' examples, copied by the extractor, not retyped."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
_spec = importlib.util.spec_from_file_location("extract", FIXTURES / "extract_seed_examples.py")
assert _spec and _spec.loader
extract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extract)


@pytest.mark.skipif(
    not extract.SEEDS.is_dir() and not __import__("os").environ.get("CI"),
    reason=f"the seed pages are not beside this checkout ({extract.SEEDS})",
)
def test_fixtures_match_the_seed_pages() -> None:
    pages = extract.extract()
    stored = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in FIXTURES.glob("*.json")}
    assert stored == pages
    assert len(pages) == 11
