"""``${ENV_NAME}`` references: how secrets and endpoints are named in files without being in them.

A connection file is committed and reviewed like code, so it may only *name* an environment
variable; the value is read at start-up (:func:`resolve_reference`) and kept as ``SecretStr``.
Checks here never echo the offending value: a mistyped reference may be a pasted secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from channel_sync.config.problems import FileError, Problem

ENV_NAME_PATTERN = r"[A-Z_][A-Z0-9_]*"
REFERENCE_PATTERN = rf"^\$\{{{ENV_NAME_PATTERN}\}}$"
_REFERENCE = re.compile(REFERENCE_PATTERN)
_ENV_NAME = re.compile(rf"^{ENV_NAME_PATTERN}$")
_BARE = re.compile(rf"^\$({ENV_NAME_PATTERN})$")
_ENV_LINE = re.compile(r"^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$")


def reference_name(value: Any) -> str | None:
    """The variable named by a well-formed ``${NAME}`` value, else None."""
    if isinstance(value, str) and _REFERENCE.match(value):
        return value[2:-1]
    return None


_LITERAL = (
    "a literal secret is not allowed in a connection file: put the value in an "
    "environment variable and write its name as ${ENV_NAME}"
)


def reference_problem(value: Any) -> str | None:
    """Why ``value`` is not a usable reference (worded without repeating the value), or None."""
    if reference_name(value) is not None:
        return None
    if not isinstance(value, str):
        return "must be an ${ENV_NAME} reference to an environment variable, not a literal value"
    bare = _BARE.match(value)
    if bare:
        return f"write the reference with braces: ${{{bare.group(1)}}}"
    if value.startswith("${") and value.endswith("}"):
        return _braced_problem(value[2:-1])
    if "${" in value:
        return "a reference must be the whole value, e.g. ${PARTNER_A_TOKEN}"
    return _LITERAL


def _braced_problem(inner: str) -> str:
    if not inner:
        return "empty reference '${}': write the variable name inside, e.g. ${PARTNER_A_TOKEN}"
    if "$" in inner or "{" in inner:
        return "nested references are not supported; name one environment variable"
    if _ENV_NAME.match(inner.upper()):
        return (
            "environment variable names are upper-case letters, digits and '_', "
            f"e.g. ${{{inner.upper()}}}"
        )
    return (
        "invalid environment variable name in the reference: use upper-case letters, "
        "digits and '_', starting with a letter or '_'"
    )


def _reference(value: Any) -> str:
    problem = reference_problem(value)
    if problem is not None:
        raise PydanticCustomError("env_reference", problem)
    assert isinstance(value, str)
    return value


def _reference_or_literal(value: Any) -> str:
    if isinstance(value, str) and "$" not in value:
        return value
    return _reference(value)


#: A value that must be a ``${NAME}`` reference (secrets).
EnvReference = Annotated[
    str,
    BeforeValidator(_reference),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": REFERENCE_PATTERN,
            "description": "An environment variable reference, ${ENV_NAME}.",
        }
    ),
]

#: A value that may be written literally or as a reference (endpoints, file paths).
EnvReferenceOrLiteral = Annotated[
    str,
    BeforeValidator(_reference_or_literal),
    WithJsonSchema(
        {
            "type": "string",
            "anyOf": [{"pattern": REFERENCE_PATTERN}, {"pattern": r"^[^$]*$"}],
            "description": "A literal value, or an environment variable reference ${ENV_NAME}.",
        }
    ),
]


@dataclass(frozen=True)
class EnvFile:
    """Variables read from a ``KEY=VALUE`` file (the kind ``docker --env-file`` reads)."""

    path: Path
    values: dict[str, str]


def read_env_file(path: Path) -> EnvFile:
    """Parse a ``KEY=VALUE`` file: ``#`` comments, blank lines, optional ``export`` and quotes."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FileError.single(path, "environment file not found") from None
    except UnicodeDecodeError:
        raise FileError.single(path, "environment file is not valid UTF-8") from None
    except OSError as exc:
        raise FileError.single(path, f"cannot read the file: {exc.strerror or exc}") from None
    values: dict[str, str] = {}
    problems: list[Problem] = []
    for number, raw_line in enumerate(text.splitlines(), start=1):
        line = raw_line.strip()
        if not line or line.startswith("#"):
            continue
        match = _ENV_LINE.match(line)
        if match is None:
            problems.append(
                Problem(path, number, 1, None, "expected KEY=VALUE (a variable name, '=', a value)")
            )
            continue
        key, value = match.group(1), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    if problems:
        raise FileError(problems)
    return EnvFile(path, values)


def resolve_reference(value: str, env: Mapping[str, str]) -> str | None:
    """The value a reference stands for (None when unset or empty); literals pass through."""
    name = reference_name(value)
    if name is None:
        return value
    resolved = env.get(name)
    return resolved if resolved else None
