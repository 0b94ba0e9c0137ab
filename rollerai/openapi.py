"""The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json. Tests check real
responses against these schemas, so the document cannot drift from what the API does."""

from typing import Any

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET

from generation.validation import MAX_IMAGES, MAX_PROMPT_LENGTH, MAX_SEED, MIN_SIDE


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {
        400: "Invalid input",
        401: "Not signed in, or an unknown or revoked API key",
        402: "Not enough credits",
        404: "No such generation (or not yours)",
        409: "Wrong state for this",
        413: "Request body too large",
        429: "Rate limited; see Retry-After",
    }
    return {
        str(status): {
            "description": reasons[status],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
        for status in statuses
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


GENERATION_ID = {
    "name": "generation_id",
    "in": "path",
    "required": True,
    "schema": {"type": "string", "format": "uuid"},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message", "field"],
                "properties": {
                    "code": {"type": "string", "examples": ["out_of_range"]},
                    "message": {"type": "string"},
                    "field": _nullable({"type": "string"}),
                },
            }
        },
    },
    "Me": {
        "type": "object",
        "required": ["username", "credits"],
        "properties": {"username": {"type": "string"}, "credits": {"type": "integer"}},
    },
    "Model": {
        "type": "object",
        "required": [
            "slug",
            "name",
            "default_steps",
            "max_steps",
            "default_width",
            "default_height",
            "max_width",
            "max_height",
            "credits_per_image",
        ],
        "properties": {
            "slug": {"type": "string"},
            "name": {"type": "string"},
            "description": {"type": "string"},
            "is_demo": {"type": "boolean"},
            "family": {"type": "string", "enum": ["sd", "sdxl", "turbo"]},
            "default_steps": {"type": "integer"},
            "max_steps": {"type": "integer"},
            "default_width": {"type": "integer"},
            "default_height": {"type": "integer"},
            "max_width": {"type": "integer"},
            "max_height": {"type": "integer"},
            "default_guidance": {"type": "number"},
            "max_guidance": {"type": "number"},
            "credits_per_image": {"type": "integer"},
        },
    },
    "GenerationRequest": {
        "type": "object",
        "required": ["prompt"],
        "additionalProperties": False,
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT_LENGTH},
            "negative_prompt": {"type": "string", "maxLength": MAX_PROMPT_LENGTH},
            "model": {"type": "string", "description": "A model slug; default: the first one."},
            "width": {"type": "integer", "minimum": MIN_SIDE, "multipleOf": 8},
            "height": {"type": "integer", "minimum": MIN_SIDE, "multipleOf": 8},
            "steps": {"type": "integer", "minimum": 1},
            "guidance": {"type": "number", "minimum": 0},
            "seed": _nullable({"type": "integer", "minimum": 0, "maximum": MAX_SEED}),
            "count": {"type": "integer", "minimum": 1, "maximum": MAX_IMAGES},
        },
    },
    "Image": {
        "type": "object",
        "required": ["url", "thumbnail_url", "seed", "width", "height"],
        "properties": {
            "url": {"type": "string"},
            "thumbnail_url": {"type": "string"},
            "seed": {"type": "integer"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
        },
    },
    "Generation": {
        "type": "object",
        "required": [
            "id",
            "status",
            "prompt",
            "model",
            "width",
            "height",
            "steps",
            "seed",
            "count",
            "position",
            "progress",
            "images",
            "error",
            "credits_charged",
            "created_at",
            "started_at",
            "finished_at",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {
                "type": "string",
                "enum": ["queued", "running", "succeeded", "failed", "canceled"],
            },
            "revision": {
                "type": "integer",
                "minimum": 1,
                "description": "Goes up with every status change; of two events or responses "
                "about one generation, the one with the lower revision is out of date.",
            },
            "prompt": {"type": "string"},
            "negative_prompt": {"type": "string"},
            "model": {"type": "string"},
            "width": {"type": "integer"},
            "height": {"type": "integer"},
            "steps": {"type": "integer"},
            "guidance": {"type": "number"},
            "seed": {"type": "integer"},
            "count": {"type": "integer"},
            "position": _nullable({"type": "integer", "minimum": 1}),
            "eta_seconds": _nullable({"type": "integer", "minimum": 0}),
            "waiting_for_worker": {"type": "boolean"},
            "progress": {
                "type": "object",
                "required": ["step", "total"],
                "properties": {"step": {"type": "integer"}, "total": {"type": "integer"}},
            },
            "images": {"type": "array", "items": _ref("Image")},
            "error": _nullable({"type": "string"}),
            "credits_charged": {"type": "integer"},
            "is_public": {"type": "boolean"},
            "share_url": _nullable({"type": "string"}),
            "created_at": {"type": "string", "format": "date-time"},
            "started_at": _nullable({"type": "string", "format": "date-time"}),
            "finished_at": _nullable({"type": "string", "format": "date-time"}),
        },
    },
    "GenerationPage": {
        "type": "object",
        "required": ["results", "next_cursor"],
        "properties": {
            "results": {"type": "array", "items": _ref("Generation")},
            "next_cursor": _nullable({"type": "string"}),
        },
    },
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "RollerAI API",
        "version": "1",
        "description": (
            "Make images from text prompts. Authenticate with 'Authorization: Bearer <api key>' "
            "(keys are made on /accounts/) or a browser session (writes then need the CSRF "
            "token). Follow progress on the websocket /ws/generations/, sending the key as the "
            "subprotocols 'bearer, <key>'."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"apiKey": []}, {"session": []}],
    "components": {
        "securitySchemes": {
            "apiKey": {"type": "http", "scheme": "bearer"},
            "session": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
        },
        "schemas": SCHEMAS,
    },
    "paths": {
        "/me": {
            "get": {
                "summary": "The signed-in account and its credits",
                "responses": {"200": _json("The account", _ref("Me")), **_errors(401)},
            }
        },
        "/models": {
            "get": {
                "summary": "The models you can choose from",
                "responses": {
                    "200": _json(
                        "Enabled models",
                        {
                            "type": "object",
                            "required": ["results"],
                            "properties": {"results": {"type": "array", "items": _ref("Model")}},
                        },
                    ),
                    **_errors(401),
                },
            }
        },
        "/generations": {
            "get": {
                "summary": "Your generations, newest first",
                "parameters": [
                    {"name": name, "in": "query", "required": False, "schema": schema}
                    for name, schema in [
                        ("cursor", {"type": "string"}),
                        ("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                        ("q", {"type": "string"}),
                        ("model", {"type": "string"}),
                        ("status", {"type": "string"}),
                    ]
                ],
                "responses": {"200": _json("A page", _ref("GenerationPage")), **_errors(400, 401)},
            },
            "post": {
                "summary": "Ask for images; charges count x the model's credits per image",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "maxLength": 100},
                        "description": "A retry with the same key returns the first generation.",
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("GenerationRequest")}},
                },
                "responses": {
                    "202": _json("Queued", _ref("Generation")),
                    **_errors(400, 401, 402, 409, 413, 429),
                },
            },
        },
        "/generations/{generation_id}": {
            "parameters": [GENERATION_ID],
            "get": {
                "summary": "One of your generations",
                "responses": {
                    "200": _json("The generation", _ref("Generation")),
                    **_errors(401, 404),
                },
            },
            "patch": {
                "summary": "Make it public (shareable) or private",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["public"],
                                "additionalProperties": False,
                                "properties": {"public": {"type": "boolean"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json("The generation", _ref("Generation")),
                    **_errors(400, 401, 404, 409),
                },
            },
            "delete": {
                "summary": "Delete it and its images (finished generations only)",
                "responses": {"204": {"description": "Deleted"}, **_errors(401, 404, 409)},
            },
        },
        "/generations/{generation_id}/cancel": {
            "parameters": [GENERATION_ID],
            "post": {
                "summary": "Cancel it and get its credits back",
                "responses": {
                    "200": _json("The cancelled generation", _ref("Generation")),
                    **_errors(401, 404, 409),
                },
            },
        },
    },
}


@require_GET
def openapi_document(request: HttpRequest) -> JsonResponse:
    return JsonResponse(DOCUMENT)
