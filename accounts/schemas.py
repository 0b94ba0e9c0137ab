"""The JSON shapes of the signed-in account."""

from ninja import Schema
from pydantic import ConfigDict


class Me(Schema):
    model_config = ConfigDict(extra="forbid")

    username: str
    credits: int
