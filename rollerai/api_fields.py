"""Field types for API schemas: each checks a value once, documents what it accepts in the OpenAPI
document, and names its mistakes as rollerai.api's REFUSALS table says them."""

import unicodedata
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict, StringConstraints
from pydantic_core import PydanticCustomError

SLUG_PATTERN = r"^[-a-zA-Z0-9_]+$"


def _range_check(minimum: int, maximum: int) -> AfterValidator:
    def check(value: int) -> int:
        # Both bounds in one message, which pydantic's ge/le errors cannot say.
        if not minimum <= value <= maximum:
            raise PydanticCustomError(
                "out_of_range", "out of range", {"minimum": minimum, "maximum": maximum}
            )
        return value

    return AfterValidator(check)


def whole_number(minimum: int, maximum: int, *, strict: bool = True) -> Any:
    """An integer within [minimum, maximum]; strict for JSON, where true and "7" are not numbers,
    lax for query strings, where every value is text."""
    marks: list[Any] = [Strict()] if strict else []
    return Annotated[
        int,
        *marks,
        _range_check(minimum, maximum),
        Field(json_schema_extra={"minimum": minimum, "maximum": maximum}),
    ]


def _stripped(value: Any) -> Any:
    # Python's strip, as the form does: it also takes the separators \x1c-\x1f, which are
    # control characters a prompt may not contain anywhere else.
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _text_check(*, required: bool, max_length: int) -> AfterValidator:
    def check(value: str) -> str:
        if required and not value:
            raise PydanticCustomError("required", "required")
        if len(value) > max_length:
            raise PydanticCustomError(
                "too_long", "too long", {"max_length": max_length, "length": len(value)}
            )
        if any(unicodedata.category(character) == "Cc" for character in value):
            raise PydanticCustomError("control_characters", "control characters")
        return value

    return AfterValidator(check)


def one_line_text(*, required: bool, max_length: int) -> Any:
    """Text without control characters, trimmed, at most `max_length` characters."""
    return Annotated[
        str,
        BeforeValidator(_stripped),
        _text_check(required=required, max_length=max_length),
        Field(json_schema_extra={"minLength": int(required), "maxLength": max_length}),
    ]


Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
