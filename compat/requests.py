"""Turning a compatible API's request into the site's own GenerationRequest, with each refusal
naming the field as that API calls it."""

from typing import Any

from pydantic import ValidationError

from generation.schemas import GenerationRequest
from rollerai.exceptions import InvalidRequest

# The site's field -> the compatible API's name for it.
FieldNames = dict[str, str]


def generation_request(fields: dict[str, Any], names: FieldNames) -> GenerationRequest:
    """A GenerationRequest from the fields that were sent (None ones are left to the model's
    defaults); a field the schema refuses is an InvalidRequest on the API's name for it."""
    try:
        return GenerationRequest.model_validate(
            {key: value for key, value in fields.items() if value is not None}
        )
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        field = str(first["loc"][0]) if first["loc"] else None
        label = names.get(field, field) if field else "The request"
        # The field keeps the site's name: each API's error shape renames it.
        raise InvalidRequest(f"{label}: {first['msg']}", field=field) from None
