"""What changed between snapshots, on a sandbox that lives: the status shares at each
snapshot and the transitions between two, each against a plain loop over the accounts the
API listed at each moment (fetched by hand with ``requests``, not by the client)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from argyle_nb import analysis
from argyle_nb.client import ArgyleClient
from argyle_nb.dataset import Dataset
from argyle_nb.errors import ArgyleTypeError, ArgyleValueError
from argyle_nb.sandbox import start
from tests.integration.listings import listing, status

pytestmark = pytest.mark.embedded_only("advances the embedded sandbox's clock")

DAYS = 3


#: The snapshots' folder, the accounts listed at each snapshot, and the users.
Lived = tuple[Path, list[Any], list[Any]]


@pytest.fixture(scope="module")
def lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lived]:
    """Three daily snapshots of a living sandbox; the accounts and users listed at each."""
    folder = tmp_path_factory.mktemp("history")
    listed, users = [], []
    with start(db=folder / "sandbox.sqlite", users=600, seed=21) as sb:
        auth = (sb.key_id, sb.key_secret)
        for day in range(DAYS):
            if day:
                sb.advance(days=1 if day == 1 else 12)  # into the story's incident
            listed.append(listing(sb.base_url, auth))
            users.append(listing(sb.base_url, auth, "users"))
            with ArgyleClient(
                *auth, base_url=sb.base_url, cache="memory", progress=False, now=sb.now
            ) as client:
                client.export(folder / "portfolio").close()
    yield folder / "portfolio", listed, users


def test_status_over_time_counts_each_snapshot_as_listed(lived: Lived) -> None:
    path, listed, _ = lived
    with Dataset(path) as ds:
        shares = analysis.status_over_time(ds)
        taken = list(ds.snapshots["taken_at"])
    for number, accounts in enumerate(listed):
        want = Counter(status(a) for a in accounts)
        mine = shares[shares["snapshot"] == number]
        got = {str(s): int(n) for s, n in zip(mine["status"], mine["accounts"], strict=True) if n}
        assert got == dict(want), number
        assert set(mine["total"]) == {len(accounts)}
        assert set(mine["taken_at"]) == {taken[number]}
        connected = mine[mine["status"] == "connected"].iloc[0]
        assert connected["share"] == pytest.approx(want["connected"] / len(accounts))
        assert connected["low"] < connected["share"] < connected["high"]


def _moves(before: list[dict[str, Any]], after: list[dict[str, Any]], by: str | None) -> Counter:
    """(group, from, to) -> accounts, by hand."""
    old = {a["id"]: a for a in before}
    new = {a["id"]: a for a in after}
    out: Counter[tuple[Any, str, str]] = Counter()
    for key in old.keys() | new.keys():
        a, b = old.get(key), new.get(key)
        group = None if by is None else str((b or a)[by])  # type: ignore[index]
        out[(group, "new" if a is None else status(a), "removed" if b is None else status(b))] += 1
    return out


@pytest.mark.parametrize(("start", "end"), [(None, None), (0, 2), (0, 1)])
def test_transitions_are_the_accounts_moves_between_two_listings(
    lived: Lived, start: int | None, end: int | None
) -> None:
    path, listed, _ = lived
    first, last = (DAYS - 2, DAYS - 1) if start is None else (start, end)
    with Dataset(path) as ds:
        moves = analysis.transitions(ds, start, end)
    want = _moves(listed[first], listed[last], None)  # type: ignore[index]
    got = Counter(
        {
            (None, f, t): n
            for f, t, n in zip(moves["from"], moves["to"], moves["accounts"], strict=True)
        }
    )
    assert got == want
    assert moves.attrs["snapshots"] == (first, last)
    # Each rate is of the accounts that were in its `from` state.
    for f, t, n, rate in zip(
        moves["from"], moves["to"], moves["accounts"], moves["rate"], strict=True
    ):
        total = sum(k for (_, g, _), k in want.items() if g == f)
        assert rate == pytest.approx(n / total), (f, t)
    assert (moves["rate_low"] <= moves["rate"]).all() and (
        moves["rate"] <= moves["rate_high"]
    ).all()


def test_transitions_by_link_item(lived: Lived) -> None:
    path, listed, _ = lived
    with Dataset(path) as ds:
        moves = analysis.transitions(ds, 0, 2, by="link_item")
    want = _moves(listed[0], listed[2], "link_item")
    got = Counter(
        {
            (g, f, t): n
            for g, f, t, n in zip(
                moves["link_item"], moves["from"], moves["to"], moves["accounts"], strict=True
            )
        }
    )
    assert got == want


def _groups(users: list[dict[str, Any]], key: str) -> dict[str, str]:
    """user id -> its text value of ``key`` (MISSING when absent), by hand."""
    out = {}
    for u in users:
        meta = u.get("external_metadata")
        value = meta.get(key) if isinstance(meta, dict) else None
        out[u["id"]] = value if isinstance(value, str) else analysis.MISSING
    return out


def test_transitions_by_a_metadata_key_group_each_account_by_its_user(lived: Lived) -> None:
    path, listed, users = lived
    key = "customer group"
    later = _groups(users[2], key)
    earlier = _groups(users[0], key)
    old = {a["id"]: a for a in listed[0]}
    new = {a["id"]: a for a in listed[2]}
    grouped: Counter[tuple[Any, str, str]] = Counter()
    for account_id in old.keys() | new.keys():
        a, b = old.get(account_id), new.get(account_id)
        group = later[b["user"]] if b is not None else earlier[a["user"]]  # type: ignore[index]
        f = "new" if a is None else status(a)
        t = "removed" if b is None else status(b)
        grouped[(group, f, t)] += 1
    with Dataset(path) as ds:
        moves = analysis.transitions(ds, 0, 2, by=key)
        shares = analysis.status_over_time(ds, by=key, start=1)
    got = Counter(
        {
            (g, f, t): n
            for g, f, t, n in zip(
                moves[key], moves["from"], moves["to"], moves["accounts"], strict=True
            )
        }
    )
    assert got == grouped
    assert len(set(moves[key])) > 1
    # The status shares of snapshots 1 and 2 only, each account in its user's group then.
    assert sorted(set(shares["snapshot"])) == [1, 2]
    for number in (1, 2):
        groups = _groups(users[number], key)
        want_shares = Counter((groups[a["user"]], status(a)) for a in listed[number])
        mine = shares[(shares["snapshot"] == number) & (shares["accounts"] > 0)]
        assert {
            (g, str(s)): int(n)
            for g, s, n in zip(mine[key], mine["status"], mine["accounts"], strict=True)
        } == dict(want_shares)


def test_transition_accounts_are_the_accounts_of_the_cell(lived: Lived) -> None:
    path, listed, _ = lived
    old = {a["id"]: a for a in listed[0]}
    new = {a["id"]: a for a in listed[2]}
    with Dataset(path) as ds:
        for f, t in (("connected", "error"), ("new", "connected"), ("connecting", "removed")):
            want = sorted(
                k
                for k in old.keys() | new.keys()
                if ("new" if k not in old else status(old[k])) == f
                and ("removed" if k not in new else status(new[k])) == t
            )
            found = analysis.transition_accounts(ds, f, t, 0, 2)
            assert list(found["id"]) == want, (f, t)
            assert set(found["from"]) <= {f} and set(found["to"]) <= {t}
            for row in found.itertuples():
                record = new.get(row.id) or old[row.id]  # the later record, else the earlier
                assert row.user == record["user"] and row.link_item == record["link_item"]
        some = analysis.transition_accounts(ds, "connected", "connected", 0, 2, limit=3)
        assert len(some) == 3 and list(some["id"]) == sorted(some["id"])
        item = str(some["link_item"].iloc[0])
        mine = analysis.transition_accounts(
            ds, "connected", "connected", 0, 2, by="link_item", group=item
        )
        assert set(mine["link_item"]) == {item}
        assert len(mine) == sum(
            1
            for k, a in new.items()
            if k in old and status(old[k]) == status(a) == "connected" and a["link_item"] == item
        )


def test_the_story_shows_in_the_transitions(lived: Lived) -> None:
    # Thirteen days on, never-connected accounts older than 30 days... and connections
    # lost with re-authentication codes: both states appear between the first and last.
    path, _, _ = lived
    with Dataset(path) as ds:
        moves = analysis.transitions(ds, 0, 2)
    pairs = set(zip(moves["from"], moves["to"], strict=True))
    assert ("connected", "error") in pairs and ("new", "connected") in pairs


def test_history_needs_snapshots(lived: Lived, tmp_path: Path) -> None:
    import pandas as pd

    with pytest.raises(ArgyleTypeError, match="takes a Dataset of snapshots"):
        analysis.transitions(pd.DataFrame())  # type: ignore[arg-type]
    frames = Dataset.from_frames(None, None)
    with pytest.raises(ArgyleValueError, match="need two snapshots"):
        analysis.transitions(frames)
    with Dataset(lived[0]) as ds:
        with pytest.raises(ArgyleValueError, match="neither a column of the accounts"):
            analysis.status_over_time(ds, by="nope")
        with pytest.raises(ArgyleValueError, match="comes after"):
            analysis.status_over_time(ds, start=2, end=1)
        with pytest.raises(ArgyleValueError, match="does not exist"):
            analysis.transitions(ds, 0, 3)
        with pytest.raises(ArgyleValueError, match="give two snapshots"):
            analysis.transitions(ds, 1, 1)
        with pytest.raises(ArgyleValueError, match="give by too"):
            analysis.transition_accounts(ds, "connected", "error", group="x")


def test_the_charts_draw_every_row_coloured_by_meaning(lived: Lived) -> None:
    from argyle_nb.palette import FAILED, WORKED
    from tests.specs import spec_rows

    with Dataset(lived[0]) as ds:
        shares = analysis.status_over_time(ds)
        moves = analysis.transitions(ds)
    spec = analysis.plot_status_over_time(shares).to_dict()
    drawn = spec_rows(spec)
    assert len(drawn) == int((shares["total"] > 0).sum())
    scale = spec["layer"][1]["encoding"]["color"]["scale"]
    colours = dict(zip(scale["domain"], scale["range"], strict=True))
    assert colours["connected"] == WORKED and colours["error"] == FAILED
    cells = spec_rows(analysis.plot_transitions(moves).to_dict())
    assert sorted((c["from"], c["to"], c["accounts"]) for c in cells) == sorted(
        zip(moves["from"], moves["to"], moves["accounts"], strict=True)
    )
    with pytest.raises(ArgyleValueError, match="one group"):
        analysis.plot_transitions(analysis.transitions(Dataset(lived[0]), by="link_item"))


def test_removal_bias_counts_every_account_ever_listed(lived: Lived) -> None:
    _, listed, _ = lived
    last_seen: dict[str, dict[str, Any]] = {}
    for accounts in listed:  # a plain loop: each account as it was last listed
        last_seen.update({a["id"]: a for a in accounts})
    latest = {a["id"] for a in listed[-1]}
    connected = {k for k, a in last_seen.items() if status(a) == "connected"}
    with Dataset(lived[0]) as ds:
        bias = analysis.removal_bias(ds)
    want = {
        "ever seen": (len(last_seen), len(connected)),
        "latest snapshot": (len(latest), len(connected & latest)),
        "gone": (len(last_seen) - len(latest), len(connected - latest)),
    }
    got = {k: (int(r["accounts"]), int(r["connected"])) for k, r in bias.iterrows()}
    assert got == want
    assert want["gone"][0] > 0  # the story removes never-connected accounts
    latest_share = bias.loc["latest snapshot", "connected_share"]
    assert latest_share > bias.loc["ever seen", "connected_share"]  # flattered
    assert bias.loc["ever seen", "connected_low"] < bias.loc["ever seen", "connected_share"]


def _product_limit(durations: list[float], events: list[bool], t: float) -> float:
    """Textbook Kaplan–Meier: the share with the event by ``t`` (1 - S(t))."""
    survival = 1.0
    for time in sorted({d for d, e in zip(durations, events, strict=True) if e}):
        if time > t:
            break
        at_risk = sum(1 for d in durations if d >= time)
        died = sum(1 for d, e in zip(durations, events, strict=True) if e and d == time)
        survival *= 1 - died / at_risk
    return 1 - survival


def test_reconnection_follows_each_loss_to_its_return(lived: Lived) -> None:
    path, listed, _ = lived
    with Dataset(path) as ds:
        taken = [t.to_pydatetime() for t in ds.snapshots["taken_at"]]
        # (the longest follow-up: the last two snapshots, twelve days apart)
        longest = round((taken[-1] - taken[-2]).total_seconds() / 3600) / 24
        back = analysis.reconnection(ds, days=(1, longest))
    # A plain loop over the listings: each loss (connected, then not, a snapshot apart),
    # followed to the first snapshot listing the account connected, else censored at the
    # last one listing it.
    states = [{a["id"]: status(a) for a in accounts} for accounts in listed]
    durations, events = [], []
    for k in range(1, len(listed)):
        for key, now in states[k].items():
            if now == "connected" or states[k - 1].get(key) != "connected":
                continue
            later = [j for j in range(k + 1, len(listed)) if states[j].get(key) == "connected"]
            seen = [j for j in range(k, len(listed)) if key in states[j]]
            end = later[0] if later else seen[-1]
            durations.append(
                round((taken[end] - taken[k]).total_seconds() / 3600) / 24
            )  # to the hour
            events.append(bool(later))
    row = back.loc["all"]
    assert (int(row["losses"]), int(row["back"])) == (len(durations), sum(events))
    assert len(durations) > 20 and 0 < sum(events) < len(durations)
    assert float(row["within_1d"]) == pytest.approx(_product_limit(durations, events, 1))
    name = f"within_{longest:g}d"
    assert float(row[name]) == pytest.approx(_product_limit(durations, events, longest))
    assert 0 < float(row[name]) < 1
    assert row[f"{name}_low"] < row[name] < row[f"{name}_high"]


def test_connection_lifetime_follows_each_connection_seen_to_begin(
    lived: Lived,
) -> None:
    path, listed, _ = lived
    with Dataset(path) as ds:
        taken = [t.to_pydatetime() for t in ds.snapshots["taken_at"]]
        longest = round((taken[-1] - taken[-2]).total_seconds() / 3600) / 24
        lasting = analysis.connection_lifetime(ds, days=(1, longest))
    # A plain loop: a connection seen to begin (connected, and not connected or not
    # listed the snapshot before), followed to the first snapshot listing it otherwise.
    states = [{a["id"]: status(a) for a in accounts} for accounts in listed]
    durations, events, begun = [], [], set()
    for k in range(1, len(listed)):
        for key, now in states[k].items():
            if key in begun or now != "connected" or states[k - 1].get(key) == "connected":
                continue
            begun.add(key)
            lost = [
                j
                for j in range(k + 1, len(listed))
                if states[j].get(key, "connected") != "connected"
            ]
            seen = [j for j in range(k, len(listed)) if key in states[j]]
            end = lost[0] if lost else seen[-1]
            durations.append(
                round((taken[end] - taken[k]).total_seconds() / 3600) / 24
            )  # to the hour
            events.append(bool(lost))
    row = lasting.loc["all"]
    assert (int(row["accounts"]), int(row["lost"])) == (len(durations), sum(events))
    assert len(durations) > 20
    for d in (1, longest):
        name = f"within_{d:g}d"
        assert float(row[name]) == pytest.approx(_product_limit(durations, events, d)), name


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Twenty daily snapshots of the demo story (3,000 users): days 0 to 18 lived."""
    folder = tmp_path_factory.mktemp("story")
    with start(db=folder / "sandbox.sqlite", users=3000, seed=42) as sb:
        auth = (sb.key_id, sb.key_secret)
        with ArgyleClient(
            *auth, base_url=sb.base_url, cache="memory", progress=False, now=sb.now
        ) as client:
            for day in range(20):
                if day:
                    sb.advance(days=1)
                client.export(folder / "portfolio").close()
    yield folder / "portfolio"


def _losses(moves: Any) -> Any:
    """Per link item: accounts connected at the first snapshot, and those of them not
    connected at the second (removed accounts aside)."""
    connected = moves[moves["from"] == "connected"]
    exposed = connected.groupby("link_item")["accounts"].sum()
    lost = connected[~connected["to"].isin(["connected", "removed"])]
    return exposed, lost.groupby("link_item")["accounts"].sum().reindex(exposed.index, fill_value=0)


def test_the_story_is_found_with_its_intervals(story: Path) -> None:
    from argyle_nb.analysis.stats import wilson
    from argyle_nb.sandbox.living import LIFE

    with Dataset(story) as ds:
        days = [_losses(analysis.transitions(ds, k, k + 1, by="link_item")) for k in range(19)]

    def pooled(picked: list[int], items: list[str]) -> tuple[int, int]:
        lost = sum(int(days[k][1].reindex(items, fill_value=0).sum()) for k in picked)
        exposed = sum(int(days[k][0].reindex(items, fill_value=0).sum()) for k in picked)
        return lost, exposed

    def interval(lost: int, exposed: int) -> tuple[float, float]:
        low, high = wilson([lost], [exposed])
        return float(low[0]), float(high[0])

    incident = range(LIFE.incident_start, LIFE.incident_end + 1)
    calm = [k for k in range(19) if k not in incident and k > LIFE.walmart_end]
    items = sorted(set().union(*(set(d[0].index) for d in days)))
    # The churning platform: its daily loss rate (3%) far above the rest's (0.4%).
    churn = interval(*pooled(calm, [LIFE.churn_item]))
    rest = [i for i in items if i not in (LIFE.churn_item, LIFE.incident_item)]
    others = interval(*pooled(calm, rest))
    assert churn[0] <= LIFE.churn_loss <= churn[1] and others[0] <= LIFE.loss <= others[1]
    assert churn[0] > others[1]
    # The incident: the days whose interval lies wholly above the platform's on the
    # other days are its days, first to last.
    usual = interval(*pooled(calm, [LIFE.incident_item]))
    flagged = [k for k in range(19) if interval(*pooled([k], [LIFE.incident_item]))[0] > usual[1]]
    assert flagged == list(incident)
    # The null platforms: how many look like churning ones (interval above the others').
    nulls = [i for i in rest if pooled(calm, [i])[1] >= 100]
    false = [
        i
        for i in nulls
        if interval(*pooled(calm, [i]))[0] > interval(*pooled(calm, [x for x in rest if x != i]))[1]
    ]
    print(
        f"{LIFE.churn_item}: {churn[0]:.2%}-{churn[1]:.2%} a day, the rest {others[0]:.2%}-"
        f"{others[1]:.2%}; {LIFE.incident_item}'s days above {usual[1]:.2%}: {flagged};"
        f" null platforms flagged as churning: {len(false)} of {len(nulls)}"
    )
    assert len(nulls) >= 10 and len(false) <= 0.1 * len(nulls)


def test_the_spells_and_the_bias_are_drawn_with_their_intervals(
    lived: Lived,
) -> None:
    from argyle_nb.palette import WORKED
    from tests.specs import spec_rows

    with Dataset(lived[0]) as ds:
        back = analysis.reconnection(ds)
        lasting = analysis.connection_lifetime(ds)
        bias = analysis.removal_bias(ds)
    for table, plot in (
        (back, analysis.plot_reconnection),
        (lasting, analysis.plot_connection_lifetime),
    ):
        drawn = spec_rows(plot(table).to_dict())
        assert [r["series"] for r in drawn] == ["within 1 day", "within 7 days", "within 30 days"]
        for r, d in zip(drawn, ("1", "7", "30"), strict=True):
            want = table.loc["all", f"within_{d}d"]
            assert (r["share"] is None) == bool(pd.isna(want))
            if r["share"] is not None:
                assert r["share"] == pytest.approx(float(want))
    spec = analysis.plot_removal_bias(bias).to_dict()
    assert [(r["label"], r["count"]) for r in spec_rows(spec)] == [
        (label, int(n)) for label, n in bias["accounts"].items()
    ]
    assert spec["layer"][1]["encoding"]["color"]["scale"]["range"] == [WORKED]
