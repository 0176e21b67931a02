"""Hypothesis strategies for what a browser (or anyone with curl) can put in a form or an address,
and the plumbing to send it and to say which request failed."""

import os
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote, urlencode

import httpx2
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from blog.models import BODY_MAX_LENGTH, NAME_MAX_LENGTH, TAG_MAX_LENGTH, TITLE_MAX_LENGTH

# Fixed examples (derandomize) and a bounded count, so CI runs the same requests every time and
# in bounded time. FUZZ_EXAMPLES=500 runs a deeper search locally, still from a fixed seed.
FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")),
    # The app and its database are made once per test and shared by its examples, on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Numbers as a browser sends them, including ones no column, float or parser can hold.
ODD_NUMBERS = (
    "0", "-0", "-1", "1", "+1", " 1 ", "01", "1.0", "1.5", "1e3", "1e309", "-1e309", "nan",
    "inf", "-inf", "0x10", "1_000", "1,000", "²", "٣", "\uff15", "\U0001d7d7", "1\x00", "",
    "2147483646", "2147483647", "2147483648", "4294967296",
    "9223372036854775806", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809",
    "18446744073709551615", "18446744073709551616",
    str(10**40), "9" * 5_000,
)  # fmt: skip
numbers_as_text = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.integers().map(str),
    st.integers(min_value=-(2**130), max_value=2**130).map(str),
    st.floats().map(repr),
)

# Characters with a meaning somewhere on the way: URLs, forms, HTML, SQL, Markdown, C strings.
_MEANINGFUL = "\x00 \t\r\n#%/?&=;+,.<>\"'`\\*_[]()!|-~:@\u200b\ufeff\u202e"
_REPEATED_UNITS = ("x", "é", "😀", "\x00", " ", "a,")


class LongText(str):
    """A long run of one unit, shown in a failure report as how it was made, not in full."""

    def __new__(cls, unit: str, count: int) -> "LongText":
        text = super().__new__(cls, unit * count)
        text.unit, text.count = unit, count
        return text

    def __repr__(self) -> str:
        return f"{self.unit!r} * {self.count}"


def _long(lengths: tuple[int, ...]) -> st.SearchStrategy[str]:
    return st.builds(LongText, st.sampled_from(_REPEATED_UNITS), st.sampled_from(lengths))


# Any text short enough to go anywhere: unicode without surrogates (which UTF-8 cannot encode),
# NUL and friends, numbers, blanks.
_short_text = st.one_of(
    st.text(),
    st.text(alphabet=st.sampled_from(_MEANINGFUL)),
    numbers_as_text,
    st.sampled_from(["", " ", "\x00", "\r\n", "%00", "%", "../..", "<script>alert(1)</script>"]),
)
# What a form field can carry: also values just past each limit, and longer.
field_text = st.one_of(
    _short_text,
    _long((TAG_MAX_LENGTH + 1, NAME_MAX_LENGTH + 1, TITLE_MAX_LENGTH + 1, BODY_MAX_LENGTH + 1)),
)
# What one part of an address can carry: a browser sends a few thousand characters at most.
address_text = st.one_of(_short_text, _long((TAG_MAX_LENGTH + 1, 2_000)))
# Names of fields no form has.
unknown_field_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_[]", min_size=1, max_size=12)


def _with_offset(moment: datetime, minutes: int | None) -> str:
    text = moment.isoformat(timespec="minutes")
    if minutes is None:
        return text
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


# A `datetime-local` value, with or without a zone offset, at the ends of the calendar too.
datetimes_as_text = st.one_of(
    st.builds(
        _with_offset,
        st.datetimes(),
        st.none() | st.integers(min_value=-(23 * 60 + 59), max_value=23 * 60 + 59),
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00",
            "9999-12-31T23:59",
            "0001-01-01T00:00+14:00",
            "9999-12-31T23:59-14:00",
            "9999-12-31T23:59:59.999999Z",
            "2999-01-01T00:00",
            "2000-02-30T00:00",
            "2000-01-01T24:00",
            "2000-01-01",
            "T12:00",
            "now",
        ]
    ),
)

statuses = st.one_of(st.sampled_from(["published", "draft", "scheduled", "PUBLISHED"]), field_text)
actions = st.one_of(st.sampled_from(["save", "preview"]), field_text)
# Comma-separated tags: real-looking ones, '#'-led ones, too many, and anything at all.
tag_lists = st.one_of(
    st.lists(st.sampled_from(["python", "C#", "#c++", " Web Dev ", "node.js", "café", ""])).map(
        ", ".join
    ),
    st.lists(st.text(max_size=TAG_MAX_LENGTH + 2), max_size=TAG_MAX_LENGTH // 3).map(",".join),
    field_text,
)


@st.composite
def form_fields(
    draw: st.DrawFn, fields: Mapping[str, st.SearchStrategy[str]]
) -> list[tuple[str, str]]:
    """A form's fields, each left out, sent once or sent twice, plus fields no form has,
    in any order."""
    pairs = [
        (name, draw(values))
        for name, values in fields.items()
        for _ in range(draw(st.integers(min_value=0, max_value=2)))
    ]
    pairs += draw(st.lists(st.tuples(unknown_field_names, field_text), max_size=2))
    return draw(st.permutations(pairs))


# How a form's fields travel: url-encoded, as multipart text parts (what browsers send), or as
# multipart file parts (what a hand-made request can send in any field).
encodings = st.sampled_from(["urlencoded", "multipart", "files"])


def post_form(
    client: TestClient, path: str, token: str, pairs: list[tuple[str, str]], encoding: str
) -> httpx2.Response:
    """POST the fields with a valid CSRF token, encoded one of the `encodings` ways."""
    if encoding == "multipart":
        parts = [(name, (None, value)) for name, value in pairs]
        return client.post(path, files=[("csrf_token", (None, token)), *parts])
    if encoding == "files":
        parts = [(name, ("field.txt", value.encode(), "text/plain")) for name, value in pairs]
        return client.post(path, files=[("csrf_token", (None, token)), *parts])
    pairs = [("csrf_token", token), *pairs]
    headers = {"content-type": "application/x-www-form-urlencoded"}
    return client.post(path, content=urlencode(pairs).encode(), headers=headers)


def in_path(text: str) -> str:
    """Text as one path segment: every character that means something in a URL escaped."""
    return quote(text, safe="")


def describe(response: httpx2.Response) -> str:
    """The request that got this response, enough to send it again by hand."""
    request = response.request
    body = request.read()
    shown = body[:600] + (b"..." if len(body) > 600 else b"")
    return (
        f"{request.method} {request.url} -> {response.status_code}\n"
        f"content-type: {request.headers.get('content-type')}\nbody ({len(body)} bytes): {shown!r}"
    )


def assert_no_server_error(response: httpx2.Response) -> None:
    assert response.status_code < 500, describe(response)
