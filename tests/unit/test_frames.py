"""argyle_nb.frames: values checked against independent counts over the raw JSON."""

from __future__ import annotations

import json
import math
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argyle_nb import frames
from argyle_nb.models import (
    AVAILABILITY_STATUSES,
    CONNECTION_ERROR_CODES,
    CONNECTION_STATUSES,
    PAY_DISTRIBUTION_STATUSES,
    RESOURCES,
    Account,
    User,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NOW = datetime(2026, 11, 1, tzinfo=UTC)
UID = "0994b847-cc69-4d98-bc99-c5e65e762add"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def seed_accounts() -> list[dict[str, Any]]:
    return [
        fixture("accounts_01_the_account_object.json"),
        fixture("accounts_02_retrieve_an_account.json"),
        *fixture("accounts_03_list_accounts.json"),
    ]


def sandbox(users: int = 120, seed: int = 7) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    synth = pytest.importorskip("argyle_nb.sandbox.synth")
    pairs = list(synth.generate(users=users, seed=seed, now=NOW))
    return [u for u, _ in pairs], [a for _, accs in pairs for a in accs]


def envelope_pages(objects: list[dict[str, Any]], size: int = 50) -> Iterator[bytes]:
    for start in range(0, max(len(objects), 1), size):
        chunk = objects[start : start + size]
        yield orjson.dumps(
            {"count": len(objects), "next": None, "previous": None, "results": chunk}
        )


def ts(value: str | None) -> pd.Timestamp | None:
    """Independent timestamp reading: ISO 8601, naive means UTC."""
    if value is None:
        return None
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return pd.Timestamp(parsed).tz_convert("UTC")


def na_to_none(values: list[Any]) -> list[Any]:
    return [None if v is None or v is pd.NA or v is pd.NaT or v != v else v for v in values]


# ---------------------------------------------------------------------------
# accounts_frame
# ---------------------------------------------------------------------------


def check_accounts(frame: pd.DataFrame, raw: list[dict[str, Any]]) -> None:
    assert list(frame.columns) == list(frames.ACCOUNT_COLUMNS)
    assert len(frame) == len(raw)
    assert frame["id"].tolist() == [a["id"] for a in raw]
    assert frame["user"].tolist() == [a["user"] for a in raw]
    for col in ("link_item", "item", "source"):
        assert na_to_none(frame[col].astype(object).tolist()) == [a.get(col) for a in raw]
    assert [list(e) for e in frame["employers"]] == [a.get("employers", []) for a in raw]
    assert frame["was_connected"].tolist() == [bool(a.get("was_connected")) for a in raw]
    for col in ("created_at", "updated_at"):
        assert na_to_none(frame[col].tolist()) == [ts(a.get(col)) for a in raw]
    conn = [a.get("connection") or {} for a in raw]
    pay = [a.get("pay_distribution") or {} for a in raw]
    for field in ("status", "error_code", "error_message"):
        got = na_to_none(frame[f"connection_{field}"].astype(object).tolist())
        assert got == [c.get(field) for c in conn], field
    assert na_to_none(frame["connection_updated_at"].tolist()) == [
        ts(c.get("updated_at")) for c in conn
    ]
    assert na_to_none(frame["pay_distribution_status"].astype(object).tolist()) == [
        p.get("status") for p in pay
    ]
    assert na_to_none(frame["pay_distribution_error_code"].astype(object).tolist()) == [
        p.get("error_code", p.get("error")) for p in pay
    ]
    assert na_to_none(frame["pay_distribution_updated_at"].tolist()) == [
        ts(p.get("updated_at")) for p in pay
    ]
    assert Counter(frame["connection_status"].dropna().astype(str)) == Counter(
        c["status"] for c in conn if c.get("status")
    )


def test_seed_examples_accounts() -> None:
    raw = seed_accounts()
    frame = frames.accounts_frame(raw)
    check_accounts(frame, raw)
    assert str(frame["created_at"].dtype) == "datetime64[us, UTC]"
    # The reference example sends connection.updated_at naive: read as UTC.
    assert frame.loc[0, "connection_updated_at"] == pd.Timestamp("2019-11-29T08:37:42.112859Z")
    # The account object names the pay-distribution error "error"; the others "error_code".
    assert frame["pay_distribution_status"].astype(str).tolist() == [
        "success",
        "idle",
        "idle",
        "idle",
    ]


def test_sandbox_accounts_against_raw_json() -> None:
    _, raw = sandbox()
    assert raw
    frame = frames.accounts_frame(list(envelope_pages(raw)))
    check_accounts(frame, raw)


def test_every_source_shape_gives_the_same_frame() -> None:
    raw = seed_accounts()
    expected = frames.accounts_frame(raw)
    bare = orjson.dumps(raw)
    pretty = json.dumps({"count": 4, "next": None, "previous": None, "results": raw}, indent=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        models = [Account.model_validate(a) for a in raw]
    sources: list[Any] = [
        bare,
        [bare],
        list(envelope_pages(raw, size=1)),
        pretty.encode(),
        [pretty],
        iter(raw),
        models,
        (page for page in envelope_pages(raw, size=3)),
    ]
    for source in sources:
        pd.testing.assert_frame_equal(frames.accounts_frame(source), expected)


@pytest.mark.parametrize(
    "source",
    [b"[]", [], [b"[]"], b'{"count": 0, "next": null, "previous": null, "results": []}', iter([])],
)
def test_empty_inputs(source: Any) -> None:
    accounts = frames.accounts_frame(source)
    assert list(accounts.columns) == list(frames.ACCOUNT_COLUMNS)
    assert len(accounts) == 0
    assert str(accounts["created_at"].dtype) == "datetime64[us, UTC]"
    assert list(accounts["connection_status"].cat.categories) == list(CONNECTION_STATUSES)
    availability = frames.availability_frame(source if not isinstance(source, Iterator) else [])
    assert list(availability.columns) == list(frames.AVAILABILITY_COLUMNS)
    assert len(availability) == 0
    assert str(availability["available_count"].dtype) == "Int64"


def test_categories_are_documented_values_then_unseen() -> None:
    raw = seed_accounts()
    raw[0] = {**raw[0], "connection": {"status": "paused", "error_code": "zz_new_code"}}
    raw[1] = {**raw[1], "connection": {"status": "error", "error_code": "a_newer_code"}}
    frame = frames.accounts_frame(raw)
    assert list(frame["connection_status"].cat.categories) == [*CONNECTION_STATUSES, "paused"]
    assert list(frame["connection_error_code"].cat.categories) == [
        *CONNECTION_ERROR_CODES,
        "a_newer_code",
        "zz_new_code",
    ]
    assert list(frame["pay_distribution_status"].cat.categories)[
        : len(PAY_DISTRIBUTION_STATUSES)
    ] == list(PAY_DISTRIBUTION_STATUSES)
    assert frame["connection_status"].astype(str).tolist()[:2] == ["paused", "error"]


def test_memory_per_account_is_small() -> None:
    _, raw = sandbox(users=1500)
    frame = frames.accounts_frame(list(envelope_pages(raw, 200)))
    per_account = frame.memory_usage(deep=True).sum() / len(frame)
    assert per_account <= 400, per_account


# ---------------------------------------------------------------------------
# availability_frame
# ---------------------------------------------------------------------------


def independent_availability(raw: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for account in raw:
        availability = account.get("availability") or {}
        for resource in RESOURCES:
            entry = availability.get(resource)
            if entry is None:
                continue
            start, end = ts(entry.get("available_from")), ts(entry.get("available_to"))
            rows.append(
                {
                    "account": account["id"],
                    "user": account["user"],
                    "resource": resource,
                    "status": entry.get("status"),
                    "updated_at": ts(entry.get("updated_at")),
                    "available_count": entry.get("available_count"),
                    "available_from": start,
                    "available_to": end,
                    "window_days": None
                    if start is None or end is None
                    else (end - start).total_seconds() / 86400,
                    "files_count": entry.get("files_count"),
                    "in_progress_count": entry.get("in_progress_count"),
                }
            )
    return rows


def check_availability(frame: pd.DataFrame, raw: list[dict[str, Any]]) -> None:
    expected = independent_availability(raw)
    assert list(frame.columns) == list(frames.AVAILABILITY_COLUMNS)
    assert len(frame) == len(expected)
    got = frame.astype(object).to_dict("records")
    for row, want in zip(got, expected, strict=True):
        row = {k: None if v is pd.NA or v is pd.NaT or v != v else v for k, v in row.items()}
        if want["window_days"] is not None:
            assert math.isclose(row.pop("window_days"), want.pop("window_days"), abs_tol=1e-9)
        assert row == want


def test_seed_examples_availability() -> None:
    raw = seed_accounts()
    frame = frames.availability_frame(raw)
    check_availability(frame, raw)
    assert list(frame["status"].cat.categories) == list(AVAILABILITY_STATUSES)
    assert list(frame["resource"].cat.categories) == list(RESOURCES)
    # The account object example sends payouts' window with the ends swapped: kept, negative.
    first = frame[(frame["account"] == raw[0]["id"]) & (frame["resource"] == "payouts")]
    assert first["window_days"].iloc[0] == -337.0


def test_sandbox_availability_against_raw_json() -> None:
    _, raw = sandbox()
    both = frames.accounts_and_availability(list(envelope_pages(raw)))
    check_availability(both[1], raw)
    pd.testing.assert_frame_equal(both[1], frames.availability_frame(list(envelope_pages(raw))))
    pd.testing.assert_frame_equal(both[0], frames.accounts_frame(list(envelope_pages(raw))))
    counts = Counter(
        (r, e["status"])
        for a in raw
        for r, e in (a.get("availability") or {}).items()
        if e is not None
    )
    assert (
        Counter(zip(both[1]["resource"].astype(str), both[1]["status"].astype(str), strict=True))
        == counts
    )


def test_accounts_with_every_resource_null_have_no_rows() -> None:
    raw = seed_accounts()
    raw[0] = {**raw[0], "availability": dict.fromkeys(RESOURCES)}
    raw[1] = {**raw[1], "availability": None}
    raw[2] = {k: v for k, v in raw[2].items() if k != "availability"}
    frame = frames.availability_frame(raw)
    check_availability(frame, raw)
    assert set(frame["account"]) == {raw[3]["id"]}


def test_upload_resources_carry_file_counts() -> None:
    raw = seed_accounts()[:1]
    raw[0] = {
        **raw[0],
        "availability": {
            "forms": {"status": "in_progress", "files_count": 2, "in_progress_count": 1},
            "user_uploads": {"status": "brand_new", "files_count": 0},
        },
    }
    frame = frames.availability_frame(raw)
    check_availability(frame, raw)
    assert frame["files_count"].tolist() == [2, 0]
    assert list(frame["status"].cat.categories) == [*AVAILABILITY_STATUSES, "brand_new"]


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "needle"),
    [
        (b"not json", "page 0"),
        (b'{"count": 1}', "results"),
        (b'"text"', "not a list page"),
        ([b"[]", b'[{"id": 5}]'], "page 1"),
        (b'[{"id": "x", "user": "y", "created_at": "2020-01-01T00:00:00Z"}]', "UUID"),
        (
            b'[{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",'
            b' "user": "53fe928d-9c6a-460b-b5ac-19d67304d106"}]',
            "created_at",
        ),
        (
            b'[{"id": "ac81e2bc-2157-4535-8ca4-fb1f068df1fc",'
            b' "user": "53fe928d-9c6a-460b-b5ac-19d67304d106", "created_at": 17}]',
            "created_at",
        ),
        ([b"[]", {"id": 1}], "mixes"),
        ([3], "int"),
        ({"id": 1}, "single object"),
    ],
)
def test_bad_pages_raise_frame_error(source: Any, needle: str) -> None:
    with pytest.raises(frames.FrameError, match=needle):
        frames.accounts_frame(source)


def test_frame_error_is_a_value_error() -> None:
    assert issubclass(frames.FrameError, ValueError)
    with pytest.raises(frames.FrameError):
        frames.users_frame(b"{")
    with pytest.raises(frames.FrameError, match="created_at"):
        frames.users_frame([{"id": UID}])


def test_a_builder_refuses_the_other_kind_of_record() -> None:
    users, accounts = sandbox(users=40)
    user_pages = list(envelope_pages(users, size=15))
    account_pages = list(envelope_pages(accounts, size=15))
    refusals = [
        (frames.users_frame, account_pages, r"account records \(have 'user', 'connection'\)"),
        (frames.users_frame, accounts, "use accounts_frame"),
        (frames.accounts_frame, user_pages, r"user records \(have 'external_metadata'"),
        (frames.availability_frame, user_pages, "use users_frame"),
        (frames.accounts_and_availability, users, "use users_frame"),
    ]
    for builder, source, needle in refusals:
        with pytest.raises(frames.FrameError, match=needle):
            builder(source)
        rejected: list[Any] = []  # setting records aside does not hide the mistake
        with pytest.raises(frames.FrameError, match=builder.__name__):
            builder(source, rejected=rejected)
        assert rejected == []


def test_the_kind_is_told_past_records_that_tell_nothing() -> None:
    users, accounts = sandbox(users=10)
    # an empty first page, a damaged first record: the next records still tell
    pages = [b'{"count": 0, "next": null, "previous": null, "results": []}']
    pages.append(orjson.dumps({"results": [[1, 2], {"id": UID}, *accounts[:3]]}))
    with pytest.raises(frames.FrameError, match="use accounts_frame"):
        frames.users_frame(pages, rejected=[])
    # the right kind, and empty pages, stay valid
    assert len(frames.users_frame(list(envelope_pages(users)))) == len(users)
    assert len(frames.users_frame(b"[]")) == 0
    assert len(frames.accounts_frame([b"[]", b'{"results": []}'])) == 0


# ---------------------------------------------------------------------------
# users_frame
# ---------------------------------------------------------------------------

SHAPES: list[Any] = [
    {"group_id": "Group A5"},
    {"address": {"state": "NY", "geo": {"zip": "10001"}}, "group_id": "B"},
    "User group A",
    42,
    3.5,
    ["a", "b"],
    None,
    {},
    {"nested_empty": {}, "flag": True},
    {"tags": ["x"], "score": 1},
]


def independent_flatten(value: Any, prefix: str = "meta") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, dict) and v:
                out.update(independent_flatten(v, f"{prefix}.{k}"))
            else:
                out[f"{prefix}.{k}"] = v
    elif value is not None:
        out[prefix] = value
    return out


def user(i: int, metadata: Any) -> dict[str, Any]:
    return {
        "id": f"0994b847-cc69-4d98-bc99-c5e65e76{i:04d}",
        "created_at": "2019-11-27T15:56:50.583233" if i % 2 else "2019-11-27T15:56:50Z",
        "employers_connected": ["rideCo"] * (i % 3),
        "data_providers_connected": [],
        "external_metadata": metadata,
    }


def check_users(frame: pd.DataFrame, raw: list[dict[str, Any]]) -> None:
    assert len(frame) == len(raw)
    assert frame["id"].tolist() == [u["id"] for u in raw]
    assert frame["created_at"].tolist() == [ts(u["created_at"]) for u in raw]
    assert [list(e) for e in frame["employers_connected"]] == [
        u.get("employers_connected", []) for u in raw
    ]
    assert [orjson.loads(m) for m in frame["external_metadata"]] == [
        u.get("external_metadata") for u in raw
    ]
    flat = [independent_flatten(u.get("external_metadata")) for u in raw]
    keys = {k for row in flat for k in row}
    assert {c for c in frame.columns if c == "meta" or c.startswith("meta.")} == keys
    for key in keys:
        got = frame[key].astype(object).tolist()
        want = [row.get(key) for row in flat]
        for g, w in zip(got, want, strict=True):
            if w is None:
                assert g is None or g is pd.NA or g != g, key
            else:
                assert g == w, key


def test_metadata_of_every_shape() -> None:
    raw = [user(i, m) for i, m in enumerate(SHAPES)]
    frame = frames.users_frame(raw)
    check_users(frame, raw)
    assert frame["meta.address.geo.zip"].tolist()[1] == "10001"
    assert str(frame["meta.group_id"].dtype) == "str"
    assert str(frame["meta.score"].dtype) == "Int64"
    assert str(frame["meta.flag"].dtype) == "boolean"
    assert frame["meta"].dtype == object  # a string, numbers and a list
    assert frames.metadata_keys(frame)[0] == "meta"


def test_seed_and_sandbox_users() -> None:
    seed = [
        fixture("users_02_the_user_object.json"),
        fixture("users_05_retrieve_a_user_and_their_metadata.json"),
    ]
    listed = fixture("users_07_list_users.json")
    check_users(frames.users_frame([orjson.dumps(seed), orjson.dumps(listed)]), seed + listed)
    raw, _ = sandbox()
    check_users(frames.users_frame(list(envelope_pages(raw))), raw)
    models = [User.model_validate(u) for u in raw[:20]]
    pd.testing.assert_frame_equal(
        frames.users_frame(models), frames.users_frame(raw[:20]), check_dtype=False
    )


def test_empty_users() -> None:
    frame = frames.users_frame(b'{"count": 0, "next": null, "previous": null, "results": []}')
    assert list(frame.columns) == [
        "id",
        "created_at",
        "employers_connected",
        "data_providers_connected",
        "external_metadata",
    ]
    assert frames.metadata_keys(frame) == []


# ---------------------------------------------------------------------------
# attach_metadata
# ---------------------------------------------------------------------------


def test_attach_metadata_matches_a_lookup() -> None:
    users_raw, accounts_raw = sandbox()
    users = frames.users_frame(users_raw)
    accounts = frames.accounts_frame(accounts_raw)
    by_id = {u["id"]: u.get("external_metadata") for u in users_raw}
    with_group = frames.attach_metadata(accounts, users, "customer group", name="cohort")
    want = [
        m.get("customer group") if isinstance(m := by_id.get(a["user"]), dict) else None
        for a in accounts_raw
    ]
    assert na_to_none(with_group["cohort"].astype(object).tolist()) == want
    assert list(with_group.columns) == [*accounts.columns, "cohort"]
    everything = frames.attach_metadata(frames.availability_frame(accounts_raw), users)
    assert set(frames.metadata_keys(users)) <= {c.removeprefix("meta.") for c in everything.columns}


def test_attach_metadata_unknown_user_and_key() -> None:
    users = frames.users_frame([user(1, {"g": "A"})])
    rows = pd.DataFrame({"user": [users["id"].iloc[0], "nobody"]}, index=[10, 20])
    out = frames.attach_metadata(rows, users, "meta.g")
    assert out.index.tolist() == [10, 20]
    assert na_to_none(out["meta.g"].astype(object).tolist()) == ["A", None]
    with pytest.raises(KeyError, match="no metadata key"):
        frames.attach_metadata(rows, users, "missing")
    empty = frames.attach_metadata(rows, users.iloc[0:0], "g")
    assert empty["g"].isna().all()


# ---------------------------------------------------------------------------
# Export
# ---------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside dask's reader
def test_parquet_round_trip(tmp_path: Path) -> None:
    users_raw, accounts_raw = sandbox(users=60)
    users_raw = users_raw + [user(i, m) for i, m in enumerate(SHAPES)]
    users = frames.users_frame(users_raw)
    accounts, availability = frames.accounts_and_availability(accounts_raw)
    written = frames.to_parquet(
        {"users": users, "accounts": accounts, "availability": availability}, tmp_path
    )
    assert sorted(Path(p).name for p in written) == [
        "accounts.parquet",
        "availability.parquet",
        "users.parquet",
    ]
    back = frames.read_parquet(tmp_path)
    assert isinstance(back, dict)
    pd.testing.assert_frame_equal(back["accounts"], accounts)
    pd.testing.assert_frame_equal(back["availability"], availability)
    # Object metadata columns (mixed JSON shapes) are stored as JSON text.
    mixed = users.copy()
    for column in [c for c in users.columns if users[c].dtype == object]:
        text = [None if v is None else orjson.dumps(v).decode() for v in users[column]]
        mixed[column] = pd.Series(text, dtype="str")
    pd.testing.assert_frame_equal(back["users"], mixed)

    plain = pd.read_parquet(tmp_path / "accounts.parquet")
    pd.testing.assert_frame_equal(
        plain.drop(columns="employers"), accounts.drop(columns="employers")
    )
    assert [list(e) for e in plain["employers"]] == [list(e) for e in accounts["employers"]]

    polars = pytest.importorskip("polars")
    pl_accounts = polars.read_parquet(tmp_path / "accounts.parquet")
    assert pl_accounts["id"].to_list() == accounts["id"].tolist()
    assert pl_accounts["connection_status"].to_list() == na_to_none(
        accounts["connection_status"].astype(object).tolist()
    )
    assert str(pl_accounts.schema["created_at"]) == "Datetime(time_unit='us', time_zone='UTC')"

    duckdb = pytest.importorskip("duckdb")
    [(n, connected)] = duckdb.sql(
        f"select count(*), count(*) filter (where connection_status = 'connected') "
        f"from '{tmp_path / 'accounts.parquet'}'"
    ).fetchall()
    assert n == len(accounts_raw)
    assert connected == sum(
        (a.get("connection") or {}).get("status") == "connected" for a in accounts_raw
    )
    [(total,)] = duckdb.sql(
        f"select sum(available_count) from '{tmp_path / 'availability.parquet'}'"
    ).fetchall()
    assert total == sum(r["available_count"] or 0 for r in independent_availability(accounts_raw))

    dd = pytest.importorskip("dask.dataframe")
    dask_frame = dd.read_parquet(str(tmp_path / "availability.parquet")).compute()
    pd.testing.assert_frame_equal(
        dask_frame.reset_index(drop=True), availability, check_dtype=False, check_categorical=False
    )
    assert str(dask_frame["updated_at"].dtype) == "datetime64[us, UTC]"


def test_single_frame_to_a_file(tmp_path: Path) -> None:
    frame = frames.accounts_frame(seed_accounts())
    [path] = frames.to_parquet(frame, tmp_path / "sub" / "accounts.parquet")
    back = frames.read_parquet(path)
    assert isinstance(back, pd.DataFrame)
    pd.testing.assert_frame_equal(back, frame)


JSON_LEAF = st.none() | st.booleans() | st.text(max_size=5) | st.integers(-(2**63), 2**63 - 1)
JSON_VALUE = st.recursive(
    JSON_LEAF | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text(alphabet="abc.", max_size=3), children, max_size=3)
    ),
    max_leaves=8,
)


@pytest.mark.property
@settings(max_examples=60, deadline=None)
@given(st.lists(JSON_VALUE, max_size=5))
def test_metadata_flattening_property(shapes: list[Any]) -> None:
    raw = [user(i, m) for i, m in enumerate(shapes)]
    check_users(frames.users_frame(raw), raw)


def test_users_frame_without_meta_columns_keeps_the_metadata_as_text() -> None:
    records = [
        {"id": "0994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-01",
         "external_metadata": {"a": {"b": 1}, "c": "x"}},
        {"id": "1994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-02",
         "external_metadata": "text"},
        {"id": "2994b847-cc69-4d98-bc99-c5e65e762add", "created_at": "2020-01-03"},
    ]  # fmt: skip
    plain = frames.users_frame(records, meta=False)
    assert list(plain.columns) == [
        "id", "created_at", "employers_connected", "data_providers_connected", "external_metadata"
    ]  # fmt: skip
    assert [json.loads(m) for m in plain["external_metadata"]] == [
        r.get("external_metadata") for r in records
    ]
