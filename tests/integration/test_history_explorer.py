"""HistoryExplorer on the snapshots of a living sandbox: what it shows for each choice is
what a plain loop over the accounts the API listed at each moment says (fetched by hand
with ``requests``, not by the client)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.sandbox import start
from argyle_nb.widgets import HistoryExplorer
from tests.integration.listings import listing, status

pytestmark = pytest.mark.embedded_only("advances the embedded sandbox's clock")

#: The snapshots' folder and the accounts listed at each snapshot.
Lived = tuple[Path, list[list[dict[str, Any]]]]


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lived]:
    """Four snapshots of a living sandbox (days 0, 1, 2 and 12); the accounts at each."""
    folder = tmp_path_factory.mktemp("history_explorer")
    listed = []
    with start(db=folder / "sandbox.sqlite", users=500, seed=8) as sb:
        auth = (sb.key_id, sb.key_secret)
        for day in range(4):
            if day:
                sb.advance(days=10 if day == 3 else 1)
            listed.append(listing(sb.base_url, auth))
            with ArgyleClient(
                *auth, base_url=sb.base_url, cache="memory", progress=False, now=sb.now
            ) as client:
                client.export(folder / "portfolio").close()
    yield folder / "portfolio", listed


def _moves(
    before: list[dict[str, Any]], after: list[dict[str, Any]], item: str | None = None
) -> Counter[tuple[str, str]]:
    """(from, to) -> accounts (of one link item), by hand."""
    old = {a["id"]: a for a in before}
    new = {a["id"]: a for a in after}
    out: Counter[tuple[str, str]] = Counter()
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        if item is not None and (b or a)["link_item"] != item:  # type: ignore[index]
            continue
        out[("new" if a is None else status(a), "removed" if b is None else status(b))] += 1
    return out


def _shown_moves(explorer: HistoryExplorer) -> Counter[tuple[str, str]]:
    return Counter(
        {
            (str(f), str(t)): int(n)
            for f, t, n in zip(
                explorer.moves["from"],
                explorer.moves["to"],
                explorer.moves["accounts"],
                strict=True,
            )
        }
    )


def test_it_opens_on_every_snapshot_and_counts_as_the_listings(lived: Lived) -> None:
    path, listed = lived
    with Dataset(path) as ds:
        explorer = HistoryExplorer(ds)
        assert explorer.snapshots.index == (0, 3)  # at most the last eight
        for number, accounts in enumerate(listed):
            mine = explorer.shares[explorer.shares["snapshot"] == number]
            got = {
                str(s): int(n) for s, n in zip(mine["status"], mine["accounts"], strict=True) if n
            }
            assert got == dict(Counter(status(a) for a in accounts)), number
        assert _shown_moves(explorer) == _moves(listed[0], listed[3])
        assert explorer.table.equals(explorer.moves)  # the table is the matrix's rows
        assert explorer.chart is not None and explorer.moves_chart is not None
        assert f"{len(listed[3]):,} accounts at snapshot 3" in explorer.message
        # A narrower range: the shares of its snapshots, the moves between its ends.
        explorer.snapshots.index = (1, 2)
        assert sorted(set(explorer.shares["snapshot"])) == [1, 2]
        assert _shown_moves(explorer) == _moves(listed[1], listed[2])
        # One snapshot: its shares, and no matrix (it says why).
        explorer.snapshots.index = (2, 2)
        assert explorer.moves.empty and explorer.moves_chart is None
        assert "widen it" in explorer._moves_note.value


def test_grouping_by_link_item_shows_one_item(lived: Lived) -> None:
    path, listed = lived
    with Dataset(path) as ds:
        explorer = HistoryExplorer(ds, by="link_item")
        # The items, the largest at the latest snapshot first.
        sizes = Counter(a["link_item"] for a in listed[3])
        largest = max(sorted(sizes), key=lambda item: sizes[item])
        assert explorer.group.value == largest
        assert list(explorer.group.options)[: len(sizes)] == sorted(
            sizes, key=lambda item: (-sizes[item], item)
        )
        assert _shown_moves(explorer) == _moves(listed[0], listed[3], largest)
        other = explorer.group.options[1]
        explorer.group.value = other
        assert _shown_moves(explorer) == _moves(listed[0], listed[3], other)
        last = explorer.shares[explorer.shares["snapshot"] == 3]
        assert int(last["accounts"].sum()) == sizes[other]
        assert f"of link_item {other!r}" in explorer.message


def test_a_cell_lists_its_accounts_chosen_or_clicked(lived: Lived) -> None:
    path, listed = lived
    old = {a["id"]: a for a in listed[0]}
    new = {a["id"]: a for a in listed[3]}

    def behind(f: str, t: str) -> list[str]:
        return sorted(
            k
            for k in old.keys() | new.keys()
            if ("new" if k not in old else status(old[k])) == f
            and ("removed" if k not in new else status(new[k])) == t
        )

    with Dataset(path) as ds:
        explorer = HistoryExplorer(ds)
        assert explorer.move.value is None and explorer.accounts.empty
        explorer.move.value = ("connected", "error")
        assert list(explorer.accounts["id"]) == behind("connected", "error")
        assert f"{len(behind('connected', 'error')):,} accounts" in explorer._listed.value
        # What the matrix's JavaScript sends back when a cell is clicked.
        explorer._moves_chart._vl_selections = {
            "transition": {
                "value": {"vlPoint": {"or": [{"from": "new", "to": "connected"}]}},
                "store": [],
            }
        }
        assert explorer.move.value == ("new", "connected")
        assert list(explorer.accounts["id"]) == behind("new", "connected")
        # After the range changes, the new matrix's clicks are still heard.
        explorer.snapshots.index = (1, 3)
        explorer._moves_chart._vl_selections = {
            "transition": {
                "value": {"vlPoint": {"or": [{"from": "connected", "to": "connected"}]}},
                "store": [],
            }
        }
        assert explorer.move.value == ("connected", "connected")


def test_grouping_by_a_metadata_key(lived: Lived) -> None:
    path, _ = lived
    with Dataset(path) as ds:
        explorer = HistoryExplorer(ds)
        keys = [value for label, value in explorer.by.options if label.startswith("metadata:")]
        assert "customer group" in keys
        explorer.by.value = "customer group"
        group = explorer.group.value
        assert group is not None and group != "(missing)"
        shares = explorer.shares
        assert set(shares.columns) >= {"snapshot", "status", "accounts", "share"}
        assert (shares.groupby("snapshot")["share"].sum().round(9) == 1).all()


def test_it_says_what_is_wrong(lived: Lived) -> None:
    import pandas as pd

    with pytest.raises(ArgyleTypeError, match="Dataset of snapshots"):
        HistoryExplorer(pd.DataFrame())  # type: ignore[arg-type]
    with Dataset(lived[0]) as ds, pytest.raises(ArgyleValueError, match="cannot group by"):
        HistoryExplorer(ds, by="nope")


def test_its_static_snapshot_names_the_range(lived: Lived) -> None:
    with Dataset(lived[0]) as ds:
        explorer = HistoryExplorer(ds)
        bundle = explorer._repr_mimebundle_()
        html = (bundle[0] if isinstance(bundle, tuple) else bundle)["text/html"]
        assert "<b>Snapshots</b>: 0 (" in html and " to 3 (" in html
        assert repr(explorer) == "<HistoryExplorer: snapshots 0 to 3, all accounts>"
