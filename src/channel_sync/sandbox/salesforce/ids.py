"""Salesforce record ids: 15 case-sensitive characters plus a 3-character case-folding suffix.

Clients compare ids as strings, so the emulator hands out the 18-character form everywhere and
accepts either form on the way in, exactly like an org does.
"""

from __future__ import annotations

import hashlib
import string

_SUFFIX_ALPHABET = string.ascii_uppercase + "012345"
_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
_PAIRS = tuple(a + b for a in _BASE62 for b in _BASE62)
_ALNUM = frozenset(string.ascii_letters + string.digits)
# Upper-case letters become "1", everything else "0": a chunk's case pattern as binary digits.
_CASE_BITS = str.maketrans(
    dict.fromkeys(string.ascii_uppercase, "1")
    | dict.fromkeys(string.ascii_lowercase + string.digits, "0")
)


def checksum(id15: str) -> str:
    """The suffix that makes an id survive case-insensitive comparison."""
    bits = id15.translate(_CASE_BITS)
    return "".join(_SUFFIX_ALPHABET[int(bits[i : i + 5][::-1], 2)] for i in (0, 5, 10))


def normalize_id(value: str) -> str | None:
    """The canonical 18-character form of ``value``, or None when it is not a well-formed id."""
    if len(value) not in (15, 18) or not _ALNUM.issuperset(value):
        return None
    head = value[:15]
    full = head + checksum(head)
    if len(value) == 18 and value[15:].upper() != full[15:]:
        return None
    return full


def _base62(number: int, width: int) -> str:
    """``number`` in ``width`` base-62 digits (``width`` odd), two digits per step."""
    pairs = []
    for _ in range(width // 2):
        number, rem = divmod(number, 3844)
        pairs.append(_PAIRS[rem])
    return _BASE62[number % 62] + "".join(reversed(pairs))


class IdFactory:
    """Issues ids for one key prefix in one org; different orgs get different "pod" characters."""

    def __init__(self, prefix: str, org_name: str) -> None:
        digest = hashlib.sha256(org_name.encode()).digest()
        self._pod = _BASE62[digest[0] % 62] + _BASE62[digest[1] % 62]
        self._prefix = prefix
        self._counter = 0

    def next(self) -> str:
        self._counter += 1
        head = f"{self._prefix}{self._pod}0{_base62(self._counter, 9)}"
        return head + checksum(head)
