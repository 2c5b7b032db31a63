"""Tables for people: formatted for reading, in pages, sortable, exportable."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd

from argyle_nb.widgets._tables import PAGE_ROWS, TablePager, csv_link, readable, table_html


def test_readable_formats_what_a_person_reads() -> None:
    frame = pd.DataFrame(
        {
            "users": [1795, 16],
            "connected_share": [0.70808, pd.NA],
            "connected_low": [0.687, pd.NA],
            "connected_high": [0.729, pd.NA],
            "share_error": [0.1234, 0.0],
            "low_error": [0.1, 0.0],
            "high_error": [0.15, 0.2],
            "accounts_per_user": [1.31701, None],
            "created_at": pd.to_datetime(["2026-01-05", None], utc=True),
            "updated_at": pd.to_datetime(["2026-01-05 10:31:07.123456", None], utc=True),
            "small": [False, True],
            "note": ["", None],
        },
        index=pd.Index(["lending", "tiny"], name="customer group"),
    )
    shown = readable(frame)
    assert list(shown.columns) == [
        "users",
        "connected (95% interval)",
        "error (95% interval)",
        "accounts per user",
        "created at",
        "updated at",
        "small",
        "note",
    ]
    assert shown.loc["lending"].tolist() == [
        "1,795",
        "70.8% (68.7–72.9%)",
        "12.3% (10.0–15.0%)",
        "1.32",
        "2026-01-05",
        "2026-01-05 10:31",
        "",
        "",
    ]
    assert shown.loc["tiny"].tolist() == ["16", "—", "0.0% (0.0–20.0%)", "—", "—", "—", "yes", "—"]
    assert shown.index.name == "customer group"


def test_numbers_are_right_aligned_and_headers_readable() -> None:
    frame = pd.DataFrame({"users": [1, 2], "link_item": ["uber", "lyft"]})
    page = table_html(frame)
    assert '<div class="argyle-table">' in page
    assert ">link item<" in page and ">users<" in page
    # The Styler's CSS right-aligns the numeric column only.
    styled = re.findall(r"#T_\w+_row\d+_col(\d+)[^{]*\{\s*text-align: right", page)
    assert set(styled) == {"0"}


def test_long_tables_come_in_pages_and_sort() -> None:
    frame = pd.DataFrame({"n": range(60), "name": [f"u{i:02d}" for i in range(60)]})
    pager = TablePager("things")
    pager.show(frame)
    assert "rows 1–25 of 60" in pager._html.value
    assert pager.previous.disabled and not pager.next.disabled
    pager.next.click()
    pager.next.click()
    assert "rows 51–60 of 60" in pager._html.value and pager.next.disabled
    pager.next.click()  # past the end: stays on the last page
    assert "rows 51–60 of 60" in pager._html.value
    pager.sort_by.value = "n"  # numbers sort largest first
    assert pager.view["n"].tolist()[:3] == [59, 58, 57]
    assert "rows 1–25 of 60" in pager._html.value
    pager.sort_by.value = "name"
    assert pager.view["name"].iloc[0] == "u00"
    # The download link holds exactly the view, in its order.
    link = pager._csv.value
    data = re.search(r"base64,([^\"]+)", link)
    assert data is not None
    csv = pd.read_csv(io.BytesIO(base64.b64decode(data.group(1))), index_col=0)
    assert csv["name"].tolist() == pager.view["name"].tolist()
    assert 'download="things.csv"' in link
    small = TablePager("few")
    small.show(frame.head(PAGE_ROWS))
    assert small.previous.layout.display == "none" and "rows" not in small._html.value


def test_huge_views_are_not_inlined() -> None:
    frame = pd.DataFrame({"n": range(60_000)})
    assert "too many for a download link" in csv_link(frame, "big")


def test_plain_share_low_high_and_row_numbers() -> None:
    codes = pd.DataFrame(
        {"accounts": [6], "share": [0.207], "low": [0.0986], "high": [0.384]},
        index=pd.Index(["auth_required"], name="connection_error_code"),
    )
    assert readable(codes).iloc[0].tolist() == ["6", "20.7% (9.9–38.4%)"]
    numbered = table_html(pd.DataFrame({"id": ["a", "b"]}))
    assert "row_heading" not in numbered  # a RangeIndex tells a reader nothing: hidden
    named = table_html(codes)
    assert "auth_required" in named
