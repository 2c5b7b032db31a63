"""argyle_nb.envelope's numbers: whatever a server writes, a page reads every number exactly
(an int64, a double that reads back as the same decimal, or its text), and writes it back as
the same number; checked with the standard library reading numbers as ints and Decimals."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argyle_nb.envelope import ExactNumber, dumps_json, loads_json, parse_list_page

DIGITS = st.text("0123456789", min_size=1, max_size=40)
#: JSON number texts: integers of any size, decimals of any length, exponents of any size.
NUMBER = st.builds(
    lambda sign, whole, fraction, exponent: f"{sign}{whole.lstrip('0') or '0'}{fraction}{exponent}",
    st.sampled_from(["", "-"]),
    DIGITS,
    st.one_of(st.just(""), DIGITS.map(lambda d: "." + d)),
    st.one_of(
        st.just(""),
        st.builds(
            lambda e, sign, n: f"{e}{sign}{n}",
            st.sampled_from("eE"),
            st.sampled_from(["", "+", "-"]),
            st.integers(0, 500),
        ),
    ),
)


def _exact(text: str | bytes) -> Any:
    return json.loads(text, parse_float=Decimal, parse_int=int)


def _kept_by_a_double(text: str) -> bool:
    """Whether the double nearest ``text`` reads back as the same decimal."""
    double = float(text)
    return abs(double) != float("inf") and Decimal(repr(double)) == Decimal(text)


@pytest.mark.property
@settings(max_examples=300, deadline=None)
@given(st.lists(NUMBER, min_size=1, max_size=8))
def test_every_number_a_page_holds_is_read_and_written_exactly(texts: list[str]) -> None:
    page = (
        '{"count": null, "next": null, "previous": null, "results": ['
        + ",".join(f'{{"n": {t}, "s": "{t}"}}' for t in texts)
        + "]}"
    )
    records = parse_list_page(page.encode()).results
    for text, record in zip(texts, records, strict=True):
        assert record["s"] == text and type(record["s"]) is str
        value = record["n"]
        whole = not any(c in text for c in ".eE")
        if whole and -(2**63) <= int(text) < 2**63:
            assert type(value) is int and value == int(text)
        elif not whole and _kept_by_a_double(text):
            assert type(value) is float and Decimal(repr(value)) == Decimal(text)
        else:  # its text, as written
            assert type(value) is ExactNumber and value == text
        assert _exact(dumps_json(record)) == _exact(f'{{"n": {text}, "s": "{text}"}}')
    assert loads_json(page)["results"] == records


def test_text_that_looks_like_a_long_number_stays_text() -> None:
    """Hex ids (``6e1689``) and digits in strings are no numbers; a 16-digit text is text."""
    page = (
        b'[{"n": 1.5, "id": "8e201852-647d-4b4e-9301-d7a8c96e1689",'
        b' "t": 123456789012345, "s": "1234567890123456789012", "k": 0.30000000000000004}]'
    )
    (record,) = loads_json(page)
    assert record == {
        "n": 1.5,
        "id": "8e201852-647d-4b4e-9301-d7a8c96e1689",
        "t": 123456789012345,
        "s": "1234567890123456789012",
        "k": 0.30000000000000004,
    }
    assert type(record["s"]) is str and type(record["k"]) is float


def test_an_integer_of_5000_digits_is_its_text_not_an_unreadable_page() -> None:
    """int() refuses more than 4,300 digits: the page is still read, the number exact."""
    digits = "7" * 5000
    page = parse_list_page(f'[{{"n": {digits}}}, {{"n": -{digits}}}, {{"n": 1}}]')
    assert [r["n"] for r in page.results] == [digits, "-" + digits, 1]
    assert type(page.results[0]["n"]) is ExactNumber
    assert dumps_json(page.results) == f'[{{"n":{digits}}},{{"n":-{digits}}},{{"n":1}}]'.encode()


def test_digits_inside_text_never_send_a_page_to_the_slow_exact_reading() -> None:
    """A UUID such as ``3e36119d-…`` holds ``3e36119``, a JSON number beyond a double's
    range, but inside a string: the page is read by orjson alone (once every page of
    users and accounts was decoded twice, an export 1.6x slower)."""
    from argyle_nb.envelope import _rounded

    ids = ["3e36119d-c0f7-4266-9f0e-2a1b5c6d7e8f", "5e28890c-0697-4ae2-a0f7-11ee15e1fe89"]
    page = (
        '{"count": 2, "next": null, "results": ['
        + ",".join(f'{{"id": "{i}", "n": 1e300, "t": "12345678901234567890"}}' for i in ids)
        + "]}"
    ).encode()
    assert not _rounded(page)
    assert _rounded(page.replace(b"1e300", b"3e36119"))  # the same text as a number
    assert _rounded(b"[12345678901234567890]") and _rounded(b"12345678901234567890")


@pytest.mark.parametrize(
    "count",
    ["-1", "1.5", "true", '"12"', "18446744073709551615", "123456789012345678901234", "1e400"],
)
def test_a_walk_judges_the_envelope_as_every_reader_does(count: str) -> None:
    """A walk reads pages with ``exact=False`` (only the envelope and the ids): a count no
    whole number from 0 to 2**63-1 is refused with the same words either way."""
    record = '{"id": "a", "n": 0.1000000000000000055}'
    raw = f'{{"count": {count}, "next": null, "results": [{record}]}}'
    messages = []
    for exact in (True, False):
        with pytest.raises(ValueError, match="not a whole number from 0 to 2\\*\\*63-1") as caught:
            parse_list_page(raw.encode(), exact=exact)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert count.replace("true", "True").replace('"12"', "'12'") in messages[0]


def test_a_walk_reads_the_ids_and_links_of_a_page_whose_numbers_are_long() -> None:
    raw = (
        b'{"count": 9223372036854775807, "next": "https://h/v1/users?offset=2",'
        b' "results": [{"id": "a", "n": 123456789012345678901234567890}, {"id": 7}]}'
    )
    walked, read = parse_list_page(raw, exact=False), parse_list_page(raw)
    assert (walked.count, walked.next, walked.ids()) == (
        2**63 - 1,
        "https://h/v1/users?offset=2",
        ["a", None],
    )
    assert (read.count, read.next, read.ids()) == (walked.count, walked.next, walked.ids())
    assert read.results[0]["n"] == ExactNumber("123456789012345678901234567890")
