"""Bad input never ends in a crash from deep inside: every public reader, analysis and plot
answers with one of our errors, or sets the bad record aside with its reason."""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from argyle_nb import analysis, frames
from argyle_nb.client import ArgyleClient, RetryPolicy
from argyle_nb.errors import ArgyleError, ArgyleKeyError, ResponseFormatError
from argyle_nb.frames import FrameError, MissingColumnsError
from argyle_nb.models import MAX_METADATA_DEPTH, User
from argyle_nb.quarantine import RejectedRecord, RejectedRecordsWarning
from tests.hostile import Reply, Request, json_reply, serve
from tests.specs import spec_rows

UID = "0994b847-cc69-4d98-bc99-c5e65e762add"
ACCOUNT = {
    "id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",
    "user": "53fe928d-9c6a-460b-b5ac-19d67304d106",
    "created_at": "2019-11-27T15:55:56Z",
    "link_item": "uber",
    "connection": {"status": "connected"},
}


def user(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "id": f"00000000-0000-4000-8000-{n:012d}",
        "created_at": "2026-01-01T00:00:00Z",
        **fields,
    }


def deep(levels: int) -> Any:
    value: Any = "bottom"
    for _ in range(levels):
        value = {"a": value}
    return value


OUT_OF_RANGE = "9999-12-31T23:59:59-14:00"


# ---------------------------------------------------------------------------
# Analyses and plots: a missing column is named, with what makes it
# ---------------------------------------------------------------------------

EMPTY = pd.DataFrame({"x": [1]})
CALLS = [
    (
        "connection_status_distribution",
        lambda f: analysis.connection_status_distribution(f),
        "connection_status",
        "accounts_frame",
    ),
    (
        "top_error_codes",
        lambda f: analysis.top_error_codes(f),
        "connection_error_code",
        "accounts_frame",
    ),
    (
        "availability_windows",
        lambda f: analysis.availability_windows(f),
        "resource",
        "availability_frame",
    ),
    (
        "availability_timeline",
        lambda f: analysis.availability_timeline(f),
        "account",
        "availability_frame",
    ),
    (
        "plot_metadata_groups",
        lambda f: analysis.plot_metadata_groups(f),
        "users",
        "metadata_groups",
    ),
    ("attach_metadata", lambda f: frames.attach_metadata(f, f), "user", "accounts_frame"),
    ("metadata_groups", lambda f: analysis.metadata_groups(f, f, "k"), "id", "users_frame"),
    (
        "plot_connection_status_distribution",
        lambda f: analysis.plot_connection_status_distribution(f),
        "total",
        "connection_status_distribution",
    ),
    (
        "plot_availability_windows",
        lambda f: analysis.plot_availability_windows(f),
        "synced",
        "availability_windows",
    ),
]


@pytest.mark.parametrize(("name", "call", "column", "made_by"), CALLS, ids=[c[0] for c in CALLS])
def test_a_frame_without_the_columns_is_named(
    name: str, call: Any, column: str, made_by: str
) -> None:
    with pytest.raises(MissingColumnsError) as caught:
        call(EMPTY)
    message = str(caught.value)
    assert name in message and repr(column) in message and f"made by {made_by}" in message
    assert isinstance(caught.value, FrameError) and isinstance(caught.value, KeyError)
    with pytest.raises(FrameError, match="needs a DataFrame"):
        call([1, 2])


def test_an_unknown_metadata_key_is_named_with_the_known_ones() -> None:
    users = frames.users_frame([user(1, external_metadata={"group": "A"})])
    with pytest.raises(ArgyleKeyError, match=r"no metadata key 'nope'.*group"):
        analysis.users_in_group(users, "nope", "A")


def test_empty_frames_plot_as_an_empty_chart_that_says_so() -> None:
    accounts = frames.accounts_frame(b"[]")
    availability = frames.availability_frame(b"[]")
    charts = [
        analysis.plot_connection_status_distribution(
            analysis.connection_status_distribution(accounts)
        ),
        analysis.plot_availability_windows(analysis.availability_windows(availability)),
        analysis.plot_availability_timeline(analysis.availability_timeline(availability)),
    ]
    for chart in charts:
        [row] = spec_rows(chart.to_dict())
        assert row["message"].startswith("no ")


def test_read_parquet_of_something_else_is_a_frame_error(tmp_path: Path) -> None:
    text = tmp_path / "notes.parquet"
    text.write_text("not parquet at all")
    with pytest.raises(FrameError, match="not a Parquet file"):
        frames.read_parquet(text)
    with pytest.raises(FrameError, match="there is no"):
        frames.read_parquet(tmp_path / "missing.parquet")


# ---------------------------------------------------------------------------
# Records that cannot be represented are set aside, in every reader alike
# ---------------------------------------------------------------------------


def test_models_refuse_a_timestamp_utc_cannot_hold_and_metadata_too_deep() -> None:
    with pytest.raises(ValidationError, match="outside the years"):
        User.model_validate({"id": UID, "created_at": OUT_OF_RANGE})
    with pytest.raises(ValidationError, match=f"more than {MAX_METADATA_DEPTH} levels"):
        User.model_validate({"id": UID, "created_at": "2020-01-01", "external_metadata": deep(300)})
    assert User.model_validate(
        {"id": UID, "created_at": "2020-01-01", "external_metadata": deep(31)}
    )


def _users_page() -> bytes:
    page = json.dumps(
        {
            "count": 5,
            "next": None,
            "results": [
                user(1, external_metadata={"g": "A"}),
                user(2, created_at=OUT_OF_RANGE),
                user(3, external_metadata=deep(300)),
                user(4, external_metadata={"g": "BROKEN"}),
                user(5),
            ],
        }
    ).encode()
    return page.replace(b"BROKEN", b"BR\xffKEN")  # bytes that are not UTF-8


def test_users_frame_sets_unrepresentable_users_aside() -> None:
    rejected: list[RejectedRecord] = []
    users = frames.users_frame(_users_page(), rejected=rejected)
    assert sorted(users["id"].str[-1]) == ["1", "5"]
    reasons = {r.index: r.error for r in rejected}
    assert set(reasons) == {1, 2, 3}
    assert "outside the years" in reasons[1]
    assert "nested more than" in reasons[2]
    assert "not valid UTF-8" in reasons[3]
    assert all(r.raw for r in rejected)  # never lost: the raw record is kept
    with pytest.raises(FrameError):
        frames.users_frame(_users_page())


def test_accounts_with_text_that_is_not_utf8_are_set_aside() -> None:
    second = dict(ACCOUNT, id="bc81e2bc-2157-4535-8ca4-fb1f068df1fc", link_item="lyft")
    page = orjson.dumps({"results": [ACCOUNT, second]}).replace(b'"uber"', b'"ub\xffer"')
    rejected: list[RejectedRecord] = []
    accounts = frames.accounts_frame(page, rejected=rejected)
    assert accounts["link_item"].astype(str).tolist() == ["lyft"]
    assert [r.error for r in rejected] == ["holds text that is not valid UTF-8"]
    with pytest.raises(FrameError, match="UTF-8"):
        frames.accounts_frame(page)


def _client(base_url: str) -> ArgyleClient:
    return ArgyleClient(
        "kid", "s", base_url=base_url, cache="memory", progress=False, retry=RetryPolicy(1)
    )


def test_the_client_readers_set_the_same_users_aside_or_name_the_answer() -> None:
    page = _users_page()
    nan_user = orjson.dumps(user(9, external_metadata={"x": 1.5})).replace(b"1.5", b"NaN")

    def handle(request: Request) -> Reply:
        if request.path == "/v1/users":
            return Reply(body=page)
        if request.path.endswith("000000000009"):
            return Reply(body=nan_user)
        if request.path.endswith("000000000002"):
            return json_reply(user(2, created_at=OUT_OF_RANGE))
        return Reply(body=json.dumps(user(3, external_metadata=deep(300))).encode())

    with serve(handle) as fake, _client(fake.base_url) as client:
        with pytest.warns(RejectedRecordsWarning, match="3 of 5 users"):
            listed = list(client.users.list())
        assert sorted(str(u.id)[-1] for u in listed) == ["1", "5"]
        with pytest.warns(RejectedRecordsWarning):
            assert len(client.users_frame()) == 2
        assert set(client.rejected["read_by"]) == {"users.list()", "users_frame()"}
        for n in (2, 3, 9):  # as in a list page, so for one object: ours, and named
            with pytest.raises(ResponseFormatError):
                client.users.get(f"00000000-0000-4000-8000-{n:012d}")


def test_wide_metadata_costs_columns_only_up_to_the_cap() -> None:
    wide = [user(n, external_metadata={f"k{i}": i for i in range(40_000)}) for n in range(21)]
    wide[0]["external_metadata"]["shared"] = "yes"
    users = frames.users_frame(wide)
    meta = [c for c in users.columns if str(c).startswith("meta")]
    assert len(meta) == frames.MAX_META_COLUMNS
    assert users.attrs[frames.META_LEFT_OUT] == 40_001 - frames.MAX_META_COLUMNS
    assert "meta.k0" in users.columns  # shared by all 21 users: kept before "shared"
    assert orjson.loads(users["external_metadata"].iloc[0])["shared"] == "yes"  # kept raw


# ---------------------------------------------------------------------------
# Property: whatever comes, a builder returns or raises ours, and loses no record
# ---------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["id", "user", "created_at", "connection", "availability", "external_metadata", "link_item"]
)
RECORD = st.dictionaries(FIELDS, JSON, max_size=6) | JSON
LIKELY = st.fixed_dictionaries(
    {
        "id": st.just(ACCOUNT["id"]),
        "user": st.just(ACCOUNT["user"]),
        "created_at": st.sampled_from(["2020-01-01T00:00:00Z", OUT_OF_RANGE, "x"]),
    },
    optional={"connection": JSON, "availability": JSON, "external_metadata": JSON},
)
BUILDERS = [frames.accounts_frame, frames.availability_frame, frames.users_frame]


def _records_in(frame: pd.DataFrame, builder: Any) -> int:
    if builder is frames.availability_frame:
        return int(frame["account"].nunique()) if len(frame) else 0
    return len(frame)


@pytest.mark.property
@given(records=st.lists(RECORD | LIKELY, max_size=6), builder=st.sampled_from(BUILDERS))
def test_any_records_are_read_or_set_aside(records: list[Any], builder: Any) -> None:
    page = json.dumps({"count": len(records), "next": None, "results": records}).encode()
    rejected: list[RejectedRecord] = []
    try:
        frame = builder(page, rejected=rejected)
    except FrameError:
        return  # ours, and named (the other kind of record, say)
    if builder is not frames.availability_frame:
        assert _records_in(frame, builder) + len(rejected) == len(records)
    else:
        assert _records_in(frame, builder) + len(rejected) <= len(records)


@pytest.mark.property
@given(raw=st.binary(max_size=200) | st.text(max_size=200), builder=st.sampled_from(BUILDERS))
def test_any_bytes_are_read_or_refused_with_a_frame_error(raw: bytes | str, builder: Any) -> None:
    with contextlib.suppress(FrameError):
        builder(raw, rejected=[])


READERS = [
    ("users.list()", lambda c: list(c.users.list())),
    ("users_frame()", lambda c: c.users_frame()),
    ("accounts_frame()", lambda c: c.accounts_frame()),
]


@pytest.mark.property
@settings(max_examples=25)
@given(records=st.lists(RECORD | LIKELY, max_size=5))
def test_any_list_page_read_by_the_client_is_read_or_set_aside(records: list[Any]) -> None:
    page = json.dumps({"count": len(records), "next": None, "results": records}).encode()
    ids = [r.get("id") if isinstance(r, dict) else None for r in records]
    # the client keeps a record served twice (same id) once: a list holds each record once
    distinct = len({i for i in ids if isinstance(i, str)}) + sum(
        1 for i in ids if not isinstance(i, str)
    )
    with serve(lambda r: Reply(body=page)) as fake, _client(fake.base_url) as client:
        for read_by, read in READERS:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    got = read(client)
            except (ArgyleError, FrameError):
                continue  # ours, and named: the other kind of record, say
            rejected = client.rejected
            set_aside = int((rejected["read_by"] == read_by).sum()) if len(rejected) else 0
            assert len(got) + set_aside == distinct, read_by


def test_a_merged_list_keeps_records_read_leniently() -> None:
    # the same id twice makes every read unclean (merged), and bytes that are not UTF-8
    # make the page one orjson refuses: the merge still works, the record is set aside
    records = [user(1), user(1), user(2, external_metadata={"n": "BROKEN"})]
    page = json.dumps({"count": 3, "next": None, "results": records}).encode()
    page = page.replace(b"BROKEN", b"BR\xffKEN")
    with serve(lambda r: Reply(body=page)) as fake, _client(fake.base_url) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = list(client.users.list())
            frame = client.users_frame()
        assert [str(u.id)[-1] for u in got] == ["1"] == [i[-1] for i in frame["id"]]
        assert client.rejected["error"].tolist() == ["holds text that is not valid UTF-8"] * 2
