"""argyle_nb.provenance: what a frame says about where and when it came from."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from argyle_nb import frames
from argyle_nb.provenance import (
    ATTRS_KEY,
    Provenance,
    environment_of,
    format_age,
    provenance_of,
)
from tests.unit.test_frames import envelope_pages, sandbox

T = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def example(**changes: object) -> Provenance:
    values: dict[str, object] = {
        "endpoint": "/v1/accounts",
        "base_url": "http://127.0.0.1:8000/v1",
        "environment": "embedded sandbox",
        "fetch_started": T,
        "fetch_finished": T + timedelta(seconds=2),
        "pages": 7,
        "pages_from_cache": 3,
        "served_from": T - timedelta(minutes=4),
        "served_to": T + timedelta(seconds=2),
        "expires_at": T + timedelta(minutes=1),
        "records": 1334,
        "rejected": 2,
    }
    values.update(changes)
    return Provenance(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("url", "embedded", "name"),
    [
        ("https://api-sandbox.argyle.com/v1", False, "Argyle sandbox"),
        ("https://API.argyle.com/v1/", False, "Argyle production"),
        ("http://127.0.0.1:9000/v1", True, "embedded sandbox"),
        ("https://api.argyle.com/v1", True, "embedded sandbox"),
        ("http://localhost:9000/v1", False, "custom (localhost)"),
    ],
)
def test_environment_of(url: str, embedded: bool, name: str) -> None:
    assert environment_of(url, embedded=embedded) == name


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s"), (59, "59 s"), (150, "2 min"), (7200, "2 h"), (86400 * 5, "5 days"), (-3, "0 s")],
)
def test_format_age(seconds: float, text: str) -> None:
    assert format_age(timedelta(seconds=seconds)) == text


def test_age_is_measured_from_the_oldest_page() -> None:
    p = example()
    assert p.age(now=T) == timedelta(minutes=4)
    assert example(served_from=None).age(now=T + timedelta(seconds=12)) == timedelta(seconds=10)


def test_describe_says_where_how_old_and_what_was_left_out() -> None:
    text = example().describe(now=T + timedelta(minutes=1))
    assert "1334 records from the embedded sandbox (http://127.0.0.1:8000/v1/accounts)" in text
    assert "oldest 5 min old" in text
    assert "3 of 7 pages from the cache" in text
    assert "first expiry 2026-11-23 12:01:00 UTC" in text
    assert "2 rejected records left out (see client.rejected)" in text
    assert "rejected" not in example(rejected=0).describe(now=T)
    html = example()._repr_html_()
    assert "<table" in html and "embedded sandbox" in html and "1334 (2 rejected)" in html


def test_attrs_round_trip_and_bad_attrs() -> None:
    p = example()
    attrs = p.to_attrs()
    assert all(isinstance(v, str | int | type(None)) for v in attrs.values())
    assert Provenance.from_attrs(attrs) == p
    with pytest.raises(ValueError, match="not a provenance record"):
        Provenance.from_attrs({"endpoint": "/v1/users"})
    with pytest.raises(ValueError, match="not a provenance record"):
        Provenance.from_attrs({**attrs, "fetch_started": "yesterday"})


def test_provenance_follows_the_frame() -> None:
    """Filtering, copying, pickling and Parquet keep it; a frame without it gives None."""
    _, accounts = sandbox(users=30, seed=2)
    frame = frames.accounts_frame(list(envelope_pages(accounts)))
    assert provenance_of(frame) is None
    p = example(records=len(frame), rejected=0)
    frame.attrs[ATTRS_KEY] = p.to_attrs()
    connected = frame[frame["connection_status"] == "connected"]
    assert provenance_of(connected) == p
    assert provenance_of(frame.copy()) == p
    assert provenance_of(pickle.loads(pickle.dumps(frame))) == p


def test_provenance_survives_parquet(tmp_path: Path) -> None:
    _, accounts = sandbox(users=20, seed=2)
    frame = frames.accounts_frame(list(envelope_pages(accounts)))
    frame.attrs[ATTRS_KEY] = example(records=len(frame)).to_attrs()
    file = tmp_path / "accounts.parquet"
    frames.to_parquet(frame, file)
    ours = frames.read_parquet(file)
    assert isinstance(ours, pd.DataFrame)
    assert provenance_of(ours) == example(records=len(frame))
    assert provenance_of(pd.read_parquet(file)) == example(records=len(frame))
