"""What text and JSON a request may carry, checked once where requests are parsed.

PostgreSQL refuses NUL in text, psycopg cannot encode lone surrogates, and json.loads gives up on
deep nesting with RecursionError: each would otherwise surface as a 500 deep inside a view.
"""

import json
import re
from collections.abc import Iterator
from typing import Any

from rollerai.exceptions import InvalidRequest

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_check(value: str, *, field: str | None = None) -> None:
    """Raise InvalidRequest when `value` holds a character the database cannot store."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return
    subject = f"'{field}'" if field else "The request"
    if found.group() == "\x00":
        raise InvalidRequest(
            f"{subject} must not contain the NUL character (\\u0000).",
            code="nul_character",
            field=field,
        )
    raise InvalidRequest(
        f"{subject} must be valid Unicode text; it contains a lone surrogate.",
        code="invalid_unicode",
        field=field,
    )


def json_parse(raw: bytes | str) -> Any:
    """The parsed body, with every string in it (keys too) checked by `text_check`."""
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("The request body is not valid JSON.", code="malformed_json")
    except RecursionError:
        raise InvalidRequest("The request body is nested too deeply.", code="malformed_json")
    for field, text in _json_texts(data):
        if "\x00" in text and field is not None:
            # Said in the words the field checks use for any control character, so a NUL gets
            # the same answer whether it is caught here or by the field's own validation.
            raise InvalidRequest(
                f"{field.replace('_', ' ').capitalize()} must not contain control characters "
                "such as line breaks or tabs.",
                code="control_characters",
                field=field,
            )
        text_check(text, field=field)
    return data


def _json_texts(data: Any) -> Iterator[tuple[str | None, str]]:
    """Every string in parsed JSON, with the top-level field it sits under.

    A loop, not recursion: json.loads accepts nesting nearly as deep as the recursion limit, and
    a recursive walk from inside a view would hit it.
    """
    pending: list[tuple[str | None, Any]] = (
        [(key, key) for key in data] + [(key, value) for key, value in data.items()]
        if isinstance(data, dict)
        else [(None, data)]
    )
    while pending:
        field, value = pending.pop()
        if isinstance(value, str):
            yield field, value
        elif isinstance(value, dict):
            pending.extend((field, key) for key in value)
            pending.extend((field, item) for item in value.values())
        elif isinstance(value, list):
            pending.extend((field, item) for item in value)
