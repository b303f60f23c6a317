"""URL path converters. ``<id:name>`` is a database id: digits that fit a 64-bit integer.

Django's ``<int:...>`` matches any run of digits, and a number past 64 bits then fails inside the
database (a 500); with ``<id:...>`` such a path matches no route and is an ordinary 404.
"""

from __future__ import annotations

from cdss.common.serializers import MAX_DB_INT


class IdConverter:
    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_DB_INT:
            raise ValueError("beyond a 64-bit id")
        return number

    def to_url(self, value: int) -> str:
        return str(int(value))
