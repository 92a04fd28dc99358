"""Bounds on what a request may carry, shared by every API: a malformed input is a 4xx naming its field, never a 500.

- JSON bodies: at most `MAX_JSON_BODY_BYTES` (413) and `MAX_JSON_DEPTH` levels of nesting (400), checked before
  `json.loads` so a deeply nested body cannot raise `RecursionError` (`BoundedJSONParser`, the API's JSON parser).
- Integers the database can hold (`BigIntegerField`): Postgres refuses an OFFSET or id past a bigint.
- Timestamps (`StrictDateTimeField`): ISO 8601 with a real UTC offset (at most 14:00, minutes below 60); Python
  accepts -23:59, Postgres does not.
- Operator reasons (`ReasonField`): the 10-2,000 characters of `torghut.core.security.reason_problem`, as a field error.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from io import BytesIO

from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser

from torghut.core.security import REASON_MAX_LENGTH, reason_problem

# Every API body is a handful of fields; 64 KiB is far above any honest one and bounds the depth scan.
MAX_JSON_BODY_BYTES = 64 * 1024
MAX_JSON_DEPTH = 32
PG_BIGINT_MAX = 2**63 - 1
MAX_UTC_OFFSET = timedelta(hours=14)  # the widest offset in use (UTC+14:00, Kiribati)

_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_ISO_TIMESTAMP = re.compile(
    r"^\d{4}-\d{2}-\d{2}"
    r"(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2}))?)?$",
    re.IGNORECASE,
)


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in `raw` (strings skipped), without parsing it."""
    depth = deepest = 0
    for bracket in _JSON_BRACKET.findall(_JSON_STRING.sub(b"", raw)):
        if bracket in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser behind a size and a depth bound (413 / 400 with the bound in `detail`)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read(MAX_JSON_BODY_BYTES + 1) if stream is not None else b""
        if len(raw) > MAX_JSON_BODY_BYTES:
            raise RequestBodyTooLarge(f"request body larger than {MAX_JSON_BODY_BYTES} bytes")
        if json_depth(raw) > MAX_JSON_DEPTH:
            raise ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        return super().parse(BytesIO(raw), media_type, parser_context)


class BigIntegerField(serializers.IntegerField):
    """An integer Postgres can compare with a bigint column or use as OFFSET/LIMIT."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_value", PG_BIGINT_MAX)
        kwargs.setdefault("min_value", -PG_BIGINT_MAX)
        super().__init__(**kwargs)


class StrictDateTimeField(serializers.DateTimeField):
    """An ISO 8601 timestamp (date, or date and time with an optional `Z` / `±HH:MM` offset up to 14:00)."""

    default_error_messages = {
        "strict": "Timestamp must be ISO 8601: YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|±HH:MM]].",
        "offset": "UTC offset must be within ±14:00 with minutes below 60.",
    }

    def to_internal_value(self, value):
        if isinstance(value, datetime):
            return super().to_internal_value(value)
        match = _ISO_TIMESTAMP.match(str(value))
        if match is None:
            self.fail("strict")
        if match["sign"]:
            offset = timedelta(hours=int(match["hours"]), minutes=int(match["minutes"]))
            if int(match["minutes"]) >= 60 or offset > MAX_UTC_OFFSET:
                self.fail("offset")
        return super().to_internal_value(value)


class ReasonField(serializers.CharField):
    """An operator's reason: 10 to 2,000 characters once trimmed (the services apply the same rule)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", REASON_MAX_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        problem = reason_problem(text)
        if problem:
            raise serializers.ValidationError(problem)
        return text
