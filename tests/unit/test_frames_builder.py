"""argyle_nb.frames.FrameBuilder: a frame built a batch of pages at a time is the frame
built from every page at once, and the merge of the frames of a list read several times."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

import orjson
import pandas as pd
import pytest

from argyle_nb import frames
from argyle_nb.models import CONNECTION_STATUSES
from argyle_nb.quarantine import RejectedRecord
from tests.unit.test_frames import envelope_pages, sandbox
from tests.unit.test_frames_quarantine import damaged_accounts

ONE_SHOT = {
    "users": frames.users_frame,
    "accounts": frames.accounts_frame,
    "availability": frames.availability_frame,
}


def built(table: frames.Table, pages: list[bytes], batch_pages: int, **kw: Any) -> pd.DataFrame:
    builder = frames.FrameBuilder(table, batch_pages=batch_pages, **kw)
    for page in pages:
        builder.add(page)
    return builder.frame()


@pytest.mark.parametrize("table", ["users", "accounts", "availability"])
@pytest.mark.parametrize("batch_pages", [1, 3, 1000])
def test_batches_make_the_frame_every_page_makes(table: frames.Table, batch_pages: int) -> None:
    users, accounts = sandbox(users=150, seed=11)
    pages = list(envelope_pages(users if table == "users" else accounts, size=20))
    assert len(pages) > 6  # several batches of several pages
    expected = ONE_SHOT[table](pages)
    got = built(table, pages, batch_pages)
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


def test_categories_differ_from_batch_to_batch_and_still_agree() -> None:
    """Each batch dictionary-encodes its own values: a value first met in a late batch gets
    its category, and the codes of early batches still point at the right values."""
    _, accounts = sandbox(users=60, seed=5)
    records = [dict(a) for a in accounts]
    records[-1] = {**records[-1], "link_item": "zzz_only_in_the_last_batch"}
    records[0] = {**records[0], "connection": {"status": "a_status_of_the_future"}}
    pages = list(envelope_pages(records, size=10))
    frame = built("accounts", pages, batch_pages=2)
    assert frame["link_item"].iloc[-1] == "zzz_only_in_the_last_batch"
    assert frame["connection_status"].iloc[0] == "a_status_of_the_future"
    assert frame["link_item"].astype("str").tolist() == [str(r["link_item"]) for r in records]
    statuses = frame["connection_status"].cat.categories.tolist()
    assert statuses[: len(CONNECTION_STATUSES)] == list(CONNECTION_STATUSES)


def test_rejected_records_name_their_page_among_every_page() -> None:
    records, damage = damaged_accounts()
    pages = list(envelope_pages(records, size=10))
    in_batches: list[RejectedRecord] = []
    at_once: list[RejectedRecord] = []
    frame = built("accounts", pages, batch_pages=2, rejected=in_batches)
    expected = frames.accounts_frame(pages, rejected=at_once)
    pd.testing.assert_frame_equal(frame, expected)
    assert [(r.page, r.index, r.error) for r in in_batches] == [
        (r.page, r.index, r.error) for r in at_once
    ]
    assert {10 * r.page + r.index for r in in_batches} == {
        i for i, field in damage.items() if field != "availability"
    }


def test_an_error_names_the_page_among_every_page() -> None:
    _, accounts = sandbox(users=60, seed=5)
    records = [dict(a) for a in accounts]
    records[47] = {**records[47], "id": "not-a-uuid"}
    pages = list(envelope_pages(records, size=10))
    with pytest.raises(frames.FrameError, match="account 7 of page 4 has id='not-a-uuid'"):
        built("accounts", pages, batch_pages=2)


def test_user_pages_are_refused_in_any_batch() -> None:
    users, _ = sandbox(users=30, seed=5)
    empty = orjson.dumps({"count": 0, "next": None, "previous": None, "results": []})
    pages = [empty, empty, *envelope_pages(users, size=10)]
    with pytest.raises(frames.FrameError, match="use users_frame"):
        built("accounts", pages, batch_pages=2)


def test_repr_counts_pages_and_records() -> None:
    builder = frames.FrameBuilder("users")
    assert repr(builder) == "FrameBuilder('users': 0 pages, 0 records)"
    with pytest.raises(ValueError, match="table must be one of"):
        frames.FrameBuilder("payouts")  # type: ignore[arg-type]


def test_merge_keeps_the_newest_read_and_what_only_earlier_reads_saw() -> None:
    _, accounts = sandbox(users=40, seed=2)
    first = frames.accounts_frame(accounts[:30])
    second = frames.accounts_frame(accounts[10:])  # the list shifted: 10 gone, more came
    merged, added = frames.merge_passes([first, second], "accounts")
    assert merged["id"].tolist() == [a["id"] for a in accounts[10:]] + [
        a["id"] for a in accounts[:10]
    ]
    assert added == 10 and merged["id"].is_unique
    old_windows = frames.availability_frame(accounts[:30])
    new_windows = frames.availability_frame(accounts[10:])
    windows, added = frames.merge_passes([old_windows, new_windows], "availability")
    every = frames.availability_frame(accounts)
    assert set(windows["account"]) == set(every["account"])
    assert len(windows) == len(every)
    assert added == len({a["id"] for a in accounts[:10]} & set(old_windows["account"]))
    # An account the newest read served without windows keeps none of its old windows.
    held = [a["id"] for a in accounts[10:]]
    windows, _ = frames.merge_passes([old_windows, new_windows], "availability", held=held)
    assert set(windows["account"]) <= set(new_windows["account"]) | {a["id"] for a in accounts[:10]}


def test_merge_unions_categories_and_honours_what_the_newest_held() -> None:
    _, accounts = sandbox(users=20, seed=2)
    old = [dict(a) for a in accounts[:5]]
    old[0]["link_item"] = "an_item_only_seen_before"
    first, second = frames.accounts_frame(old), frames.accounts_frame(accounts[5:])
    merged, _ = frames.merge_passes([first, second], "accounts")
    assert isinstance(merged["link_item"].dtype, pd.CategoricalDtype)
    assert "an_item_only_seen_before" in merged["link_item"].tolist()
    held = [old[0]["id"]]  # the newest read served it, and rejected it
    merged, added = frames.merge_passes([first, second], "accounts", held=held)
    assert old[0]["id"] not in set(merged["id"]) and added == 4


def test_metadata_kinds_that_differ_between_batches() -> None:
    """Each batch keeps a key's values as Arrow when they agree: the column is still typed
    by every value (ints then floats make Float64, text then numbers object)."""
    users, _ = sandbox(users=4, seed=1)
    metas: list[Any] = [
        {"n": 1, "mixed": "a", "flag": True, "late": None},
        {"n": 2.5, "mixed": 3, "flag": None},
        {"n": None, "flag": False, "late": "x"},
        None,
    ]
    records = [{**u, "external_metadata": m} for u, m in zip(users, metas, strict=True)]
    pages = list(envelope_pages(records, size=1))
    frame = built("users", pages, batch_pages=1)
    assert frame["meta.n"].dtype == "Float64"
    assert frame["meta.n"].tolist()[:2] == [1.0, 2.5] and frame["meta.n"].isna().tolist()[2:] == [
        True,
        True,
    ]
    assert frame["meta.mixed"].dtype == object and frame["meta.mixed"].tolist()[:2] == ["a", 3]
    assert frame["meta.flag"].dtype == "boolean"
    assert frame["meta.flag"].tolist()[:3] == [True, pd.NA, False]
    assert frame["meta.late"].tolist()[2] == "x" and frame["meta.late"].isna().sum() == 3
    pd.testing.assert_frame_equal(frame, frames.users_frame(records))


def test_an_integer_beyond_64_bits_among_objects_is_named() -> None:
    """A Python object holding such a number (no JSON text to keep) is set aside, or named;
    the same number read from a JSON page keeps its exact text (never a rounded float)."""
    users, _ = sandbox(users=2, seed=1)
    records = [users[0], {**users[1], "external_metadata": {"big": 2**70}}]
    with pytest.raises(frames.FrameError, match="user 1 holds an integer beyond 64 bits"):
        frames.users_frame(records)
    rejected: list[RejectedRecord] = []
    frame = frames.users_frame(records, rejected=rejected)
    assert frame["id"].tolist() == [users[0]["id"]]
    assert [r.error for r in rejected] == ["holds an integer beyond 64 bits"]
    page = json.dumps({"results": records}).encode()
    read = frames.users_frame(page)
    assert read["meta.big"].tolist()[1] == str(2**70) and pd.isna(read["meta.big"][0])
    assert json.loads(read["external_metadata"][1]) == {"big": 2**70}


def test_metadata_kept_as_arrow_per_batch_still_types_by_every_value() -> None:
    """Batches of many values keep them as Arrow: ints in one batch and floats in the next
    make Float64, text in one and numbers in the next make object, as one read would."""
    users, _ = sandbox(users=400, seed=4)
    users = users[:400]
    half = len(users) // 2
    records = [
        {
            **u,
            "external_metadata": {
                "n": i if i < half else i + 0.5,
                "mixed": f"t{i}" if i < half else i,
                "text": f"s{i}",
            },
        }
        for i, u in enumerate(users)
    ]
    pages = list(envelope_pages(records, size=half))
    frame = built("users", pages, batch_pages=1)
    assert frame["meta.n"].dtype == "Float64"
    assert frame["meta.n"].tolist() == [
        float(i if i < half else i + 0.5) for i in range(len(users))
    ]
    assert frame["meta.mixed"].dtype == object
    assert frame["meta.mixed"].tolist()[half - 1 : half + 1] == [f"t{half - 1}", half]
    assert frame["meta.text"].tolist() == [f"s{i}" for i in range(len(users))]
    pd.testing.assert_frame_equal(frame, frames.users_frame(records))


def test_rare_metadata_keys_are_columns_too() -> None:
    """A key few users of a batch carry is kept with its rows; it gets its column as any
    key does, typed by every value, with the values of keys many carry beside it."""
    users, _ = sandbox(users=300, seed=9)
    records = [
        {**u, "external_metadata": {"common": i, f"rare {i % 37}": i}} for i, u in enumerate(users)
    ]
    pages = list(envelope_pages(records, size=100))
    frame = built("users", pages, batch_pages=2)
    assert frame["meta.rare 5"].dtype == "Int64"
    assert frame["meta.rare 5"].dropna().tolist() == [i for i in range(300) if i % 37 == 5]
    assert frame["meta.common"].tolist() == list(range(300))
    pd.testing.assert_frame_equal(frame, built("users", pages, batch_pages=1000))


#: Number texts a server may write: within int64 and double, beyond int64 (some beyond 64
#: bits), decimals a double does not keep (17+ digits, beyond its range), odd spellings.
NUMBER_TEXTS = [
    "1",
    "-7",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775809",
    "18446744073709551616",
    "123456789012345678901234567890",
    "0.5",
    "0.12345678901234567890",
    "12345678.123456789",
    "1e400",
    "-1E-400",
    "2.5e-3",
    "1.50",
    "1E2",
]


def _exact_rule(text: str) -> Any:
    """What a frame's column holds for a JSON number (the documented rule, read with
    Decimal): an int64 as an int, a decimal a double reads back as the same number as a
    float, anything else as its text."""
    exact = Decimal(text)
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text) if -(2**63) <= int(text) < 2**63 else text
    return float(text) if Decimal(repr(float(text))) == exact else text


@pytest.mark.parametrize("batch_pages", [1, 1000])
def test_numbers_beyond_int64_or_a_double_keep_their_exact_value(batch_pages: int) -> None:
    """Reproduces issue 25: 2**63 made users_frame fail whole (raw OverflowError), a 30-digit
    integer became 1.2345678901234568e+29 in external_metadata. Each key is read by many
    users (Arrow parts) and few (Python values), across batches."""
    users, _ = sandbox(users=300, seed=3)
    texts = []
    for i, user in enumerate(users):
        number = NUMBER_TEXTS[i % len(NUMBER_TEXTS)]
        big = NUMBER_TEXTS[2 + i % 5]  # integers only, some beyond int64
        small = "9223372036854775808" if i == len(users) - 1 else str(i)  # one, last page
        user["external_metadata"] = {"n": "@n@", "big": "@big@", "int": "@int@"}
        text = orjson.dumps(user).decode()
        texts.append(
            text.replace('"@n@"', number).replace('"@big@"', big).replace('"@int@"', small)
        )
    head = '{"count": null, "next": null, "previous": null, "results": ['
    pages = [f"{head}{','.join(texts[s : s + 20])}]}}".encode() for s in range(0, len(texts), 20)]
    frame = built("users", pages, batch_pages)
    sent = [json.loads(text, parse_float=Decimal)["external_metadata"] for text in texts]
    raw = [json.loads(text, parse_float=Decimal) for text in frame["external_metadata"]]
    assert raw == sent  # the exact value, in the raw text
    for row, text in enumerate(texts):
        metadata = json.loads(text, parse_float=str, parse_int=str)["external_metadata"]
        for key in ("n", "big", "int"):
            got = frame[f"meta.{key}"][row]
            want = _exact_rule(metadata[key])
            assert got == want and type(got) is type(want), (key, metadata[key], got)


@pytest.mark.parametrize("users_count", [3, 100])
def test_an_integer_of_2_63_among_integers_is_kept_not_a_crash(users_count: int) -> None:
    """A key of integers, one of them 2**63 (orjson reads it exactly, int64 cannot hold it):
    it failed the whole frame with a raw OverflowError/TypeError; it is its exact text."""
    users, _ = sandbox(users=users_count, seed=5)
    users = users[:users_count]
    for i, user in enumerate(users):
        user["external_metadata"] = {"n": 2**63 if i == 1 else i}
    frame = frames.users_frame(list(envelope_pages(users, size=50)))
    assert frame["meta.n"].tolist() == [str(2**63) if i == 1 else i for i in range(users_count)]
    assert [json.loads(t) for t in frame["external_metadata"]] == [
        u["external_metadata"] for u in users
    ]
