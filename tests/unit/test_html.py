"""Hostile text from the data never becomes markup: every HTML surface escapes it.

Metadata keys and values, link items, employers, error codes and messages and scan statuses
come from other systems. Each is fed, as hostile strings, through the explorers' tables and
static snapshots (charts included), each ``_repr_html_``, the report page and its index; the
HTML they give is read back with the standard library's parser (an independent reader, not
our code), and no element, attribute or comment of the payload may appear in it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import nbformat
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import argyle_nb.frames as af
from argyle_nb._html import escape, script_json, styled
from argyle_nb.analysis import compare_cohorts
from argyle_nb.cache._report import CacheReport, CacheReportRow
from argyle_nb.provenance import Provenance
from argyle_nb.report import NotebookRun, index_html, to_html
from argyle_nb.widgets import (
    AvailabilityExplorer,
    ConnectionExplorer,
    MetadataExplorer,
    UserInspector,
)
from argyle_nb.widgets._tables import table_html
from tests.hostile import Reply, Request, json_reply, serve
from tests.hostile_records import hostile_records

#: Pieces of hostile text; each marks what it would do with ``pwn`` so the check can see it.
PIECES = [
    "<img src=x onerror=pwn()>",
    "<svg/onload=pwn()>",
    "<!--<script>",
    "</script><script>pwn()</script>",
    "<pwn-tag title='x'>",
    '"><i onmouseover=pwn()>',
    "' onfocus='pwn()",
    "&lt;img&gt;",
    "\u2028",
    "\u2029",
    "-->",
    "</style><style>",
]
#: Event handlers of the pieces: attributes the parser must never find (nor ``img`` elements,
#: nor an element, attribute name, handler, comment or script that mentions ``pwn``).
HOSTILE_ATTRIBUTES = {"onerror", "onload", "onmouseover", "onfocus", "svg/onload"}

hostile = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text("ab é_", max_size=3)), min_size=1, max_size=4
).map("".join)


class Markup(HTMLParser):
    """Everything a browser would make an element, attribute, comment or script of."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.comments: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_endtag(self, tag: str) -> None:
        self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def assert_no_markup_from_data(page: str, *, scripts_allowed: int = 0) -> None:
    """No element, attribute, comment or script of :data:`PIECES` in ``page``; inline JSON
    holds no ``<``, ``>``, ``&`` or line separator raw, and parses."""
    parser = Markup()
    parser.feed(page)
    parser.close()
    assert not [t for t in parser.tags if t == "img" or "pwn" in t], page
    # (A value is text: an aria-label may quote the data; an event handler may not.)
    assert not [
        (name, value)
        for name, value in parser.attributes
        if name in HOSTILE_ATTRIBUTES
        or "pwn" in name
        or (name.startswith("on") and "pwn" in (value or ""))
        or (value or "").lstrip().lower().startswith("javascript:")
    ], page
    assert not [c for c in parser.comments if "script" in c or "pwn" in c], page
    for attrs, text in parser.scripts:
        if attrs.get("type") == "application/json":
            assert not re.search("[<>&\u2028\u2029]", text), text
            json.loads(text)
        else:
            assert "pwn" not in text
    assert sum(1 for a, _ in parser.scripts if a.get("type") != "application/json") <= (
        scripts_allowed
    )
    # A payload's "<" is only ever written escaped.
    for piece in PIECES:
        if "<" in piece:
            assert piece not in page


# ---------------------------------------------------------------------------
# Hostile data, built as the API sends it
# ---------------------------------------------------------------------------


@dataclass
class Hostile:
    users: pd.DataFrame
    accounts: pd.DataFrame
    availability: pd.DataFrame
    key: str


def hostile_frames(
    key: str, value: str, link: str, code: str, message: str, status: str
) -> Hostile:
    """The frames of :func:`~tests.hostile_records.hostile_records`: nothing set aside."""
    users, accounts = hostile_records(key, value, link, code, message, status)
    rejected: list[Any] = []
    frame = af.users_frame(users, rejected=rejected)
    acc, availability = af.accounts_and_availability(accounts, rejected=rejected)
    assert not rejected
    return Hostile(frame, acc, availability, key)


def explorer_pages(data: Hostile) -> list[str]:
    """Every HTML an explorer puts in a widget, and its static snapshot (charts included)."""
    import ipywidgets as w

    pages = []
    explorers = [
        MetadataExplorer(data.users, data.accounts, key=data.key),
        ConnectionExplorer(data.accounts),
        ConnectionExplorer(data.accounts, by="source"),
        AvailabilityExplorer(data.availability, resource="payouts"),
    ]
    for explorer in explorers:

        def walk(widget: Any) -> None:
            if isinstance(widget, w.Box):
                for child in widget.children:
                    walk(child)
            elif isinstance(widget, w.HTML):
                pages.append(str(widget.value))

        walk(explorer.widget)
        bundle = explorer._repr_mimebundle_()
        data_ = bundle[0] if isinstance(bundle, tuple) else bundle
        pages.append(data_["text/html"])
    metadata = explorers[0]
    if metadata.group.options:
        metadata.group.value = metadata.group.options[0]
        pages.append(str(metadata._users.value))
        pages.append(table_html(metadata._members.frame))
    return pages


# ---------------------------------------------------------------------------
# The reproduction: each surface, one payload
# ---------------------------------------------------------------------------

PAYLOAD = "<img src=x onerror=pwn()><!--<script></script><script>pwn()</script>\"'\u2028"


def test_a_table_escapes_cells_index_labels_headers_and_names() -> None:
    frame = pd.DataFrame(
        {PAYLOAD: [PAYLOAD, "plain"], "users": [1234, 5]},
        index=pd.Index([PAYLOAD, "b"], name=PAYLOAD),
    )
    frame.columns.name = PAYLOAD
    page = table_html(frame)
    assert_no_markup_from_data(page)
    assert escape(PAYLOAD) in page and ">1,234<" in page  # shown as text; numbers formatted


def test_the_explorers_escape_every_text_from_the_data() -> None:
    data = hostile_frames(PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD)
    pages = explorer_pages(data)
    for page in pages:
        assert_no_markup_from_data(page)
    shown = "".join(pages)
    assert escape(PAYLOAD) in shown  # the text is there, as text


def test_a_cohort_comparison_escapes_cohorts_and_its_words() -> None:
    data = hostile_frames(PAYLOAD, PAYLOAD, "uber", "e", "m", "synced")
    page = compare_cohorts(data.users, data.accounts, PAYLOAD)._repr_html_()
    assert_no_markup_from_data(page)
    assert escape(PAYLOAD + "0") in page


def test_provenance_and_cache_report_escape_what_the_server_said() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    provenance = Provenance(
        endpoint=PAYLOAD,
        base_url=PAYLOAD,
        environment=PAYLOAD,
        fetch_started=now,
        fetch_finished=now,
        pages=1,
        pages_from_cache=0,
        served_from=None,
        served_to=None,
        expires_at=None,
        records=1,
        rejected=0,
        consistent=False,
        note=PAYLOAD,
    )
    assert_no_markup_from_data(provenance._repr_html_())
    row = CacheReportRow(PAYLOAD, "list", 1, None, now, now, now + timedelta(hours=1), 0, PAYLOAD)
    report = CacheReport([row], now, PAYLOAD, missing=[PAYLOAD])
    assert_no_markup_from_data(report._repr_html_())


def test_inline_json_cannot_end_its_script() -> None:
    value = {"cohort": PAYLOAD, PAYLOAD: ["&", "\u2029"]}
    text = script_json(value)
    assert json.loads(text) == value
    assert not re.search("[<>&\u2028\u2029]", text)
    page = f'<script type="application/json">{text}</script>'
    assert_no_markup_from_data(page)


def notebook_of(pages: list[str]) -> Any:
    """A notebook whose outputs are the explorers' and reprs' bundles (as executed)."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"text/html": page, "text/plain": "x"})
        for page in pages
    ]
    nb.cells = [cell]
    return nb


def test_a_report_page_and_its_index_escape_the_data() -> None:
    data = hostile_frames(PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD)
    explorer = MetadataExplorer(data.users, data.accounts, key=data.key)
    bundle = explorer._repr_mimebundle_()
    snapshot = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
    comparison = compare_cohorts(data.users, data.accounts, PAYLOAD)._repr_html_()
    page = to_html(notebook_of([snapshot, comparison]), title="hostile")
    assert "argyle-vega" in page  # the chart and its live script are there
    # nbconvert's page and the one inline Vega carry their own scripts; none is the data's.
    assert_no_markup_from_data(page, scripts_allowed=10)
    now = datetime(2026, 1, 2, tzinfo=UTC)
    run = NotebookRun(PAYLOAD, PAYLOAD, PAYLOAD, {PAYLOAD: PAYLOAD}, now, now, error=PAYLOAD)
    index = index_html([run], day=now.date(), generated=now, keys_in_environment=False)
    assert_no_markup_from_data(index)


def test_styled_keeps_formats_and_escapes_text() -> None:
    frame = pd.DataFrame({"share": [0.1234, None], "name": [PAYLOAD, "b"]})
    page = styled(frame, {"share": "{:.1%}"}, na_rep="—").to_html()
    assert ">12.3%<" in page and ">—<" in page
    assert_no_markup_from_data(page)


# ---------------------------------------------------------------------------
# The property: any mix of hostile pieces, in every place data enters
# ---------------------------------------------------------------------------


@pytest.mark.property
@settings(max_examples=60)
@given(cells=st.lists(hostile, min_size=1, max_size=4), label=hostile, header=hostile)
def test_no_table_writes_markup_from_its_data(cells: list[str], label: str, header: str) -> None:
    frame = pd.DataFrame(
        {header: cells, "users": range(len(cells))},
        index=pd.Index([f"{label}{i}" for i in range(len(cells))], name=label),
    )
    frame.columns.name = header
    assert_no_markup_from_data(table_html(frame))
    assert_no_markup_from_data(styled(frame, {"users": "{:,}"}).to_html())
    text = script_json({"cells": cells, label: header})
    assert json.loads(text) == {"cells": cells, label: header}
    assert_no_markup_from_data(f'<script type="application/json">{text}</script>')


@pytest.mark.property
@settings(max_examples=6)
@given(key=hostile, value=hostile, link=hostile, code=hostile, message=hostile, status=hostile)
def test_no_surface_writes_markup_from_hostile_data(
    key: str, value: str, link: str, code: str, message: str, status: str
) -> None:
    data = hostile_frames(key.strip() or "k", value, link, code, message, status)
    pages = explorer_pages(data)
    pages.append(compare_cohorts(data.users, data.accounts, data.key)._repr_html_())
    for page in pages:
        assert_no_markup_from_data(page)


def test_the_user_inspector_escapes_what_a_hostile_server_sends() -> None:
    """A user, their accounts and scans, and an error, as a hostile server sends them."""
    users, accounts = hostile_records(PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD, PAYLOAD)
    mine = [a for a in accounts if a["user"] == users[1]["id"]]

    def handle(request: Request) -> Reply:
        if request.path == f"/v1/users/{users[1]['id']}":
            return json_reply(users[1])
        if request.path == "/v1/accounts":
            return json_reply({"count": len(mine), "next": None, "previous": None, "results": mine})
        return json_reply({"detail": PAYLOAD}, status=400)  # a token, refused

    frame = af.users_frame(users)
    with serve(handle) as fake:
        client = fake.client("s")
        inspector = UserInspector(client, users=frame)
        inspector.search.value = users[1]["id"]
        assert inspector.user_id == users[1]["id"]
        shown = [inspector._pager._html.value, inspector._availability.value]
        assert "argyle-table" in shown[0] and "argyle-table" in shown[1]
        inspector._ask("token")
        inspector._confirm()
        assert "BadRequestError" in inspector.message
        shown.append(inspector._message.value)
        bundle = inspector._repr_mimebundle_()
        shown.append((bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"])
        client.close()
    for page in shown:
        assert_no_markup_from_data(page)
    assert escape(PAYLOAD) in shown[2]
