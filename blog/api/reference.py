"""The API's reference for people, read from its OpenAPI schema: every operation with its
parameters, request body and answers, and every schema's fields, as plain data a template
draws (templates/api/docs.html). Drawn on the server, so the page needs no script and no
network, and says exactly what the schema says."""

from dataclasses import dataclass
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    required: bool
    notes: str


@dataclass(frozen=True)
class Body:
    media_type: str
    type: str


@dataclass(frozen=True)
class Answer:
    status: str
    description: str
    bodies: list[Body]
    headers: list[str]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    # "required", "optional" (reads answer anonymous readers too) or "none".
    token: str
    parameters: list[Field]
    request_body: list[Body]
    answers: list[Answer]

    @property
    def anchor(self) -> str:
        return f"{self.method}-{self.path}".lower().replace("/", "-").strip("-").replace("{", "")


@dataclass(frozen=True)
class Schema:
    name: str
    description: str
    fields: list[Field]


@dataclass(frozen=True)
class Reference:
    title: str
    version: str
    summary: str
    base: str
    operations: list[Operation]
    schemas: list[Schema]


def reference(schema: dict[str, Any]) -> Reference:
    base = schema.get("servers", [{"url": ""}])[0]["url"]
    operations = [
        _operation(method, base + path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]
    components = schema.get("components", {}).get("schemas", {})
    schemas = [
        Schema(
            name=name,
            description=component.get("description", ""),
            fields=_fields(component),
        )
        for name, component in sorted(components.items())
    ]
    info = schema["info"]
    return Reference(
        title=info["title"],
        version=info["version"],
        summary=info.get("summary", ""),
        base=base,
        operations=operations,
        schemas=schemas,
    )


def _operation(method: str, path: str, operation: dict[str, Any]) -> Operation:
    security = operation.get("security", [])
    token = "none" if not security else ("optional" if {} in security else "required")
    parameters = [
        Field(
            name=f"{parameter['name']} ({parameter['in']})",
            type=type_text(parameter.get("schema", {})),
            required=parameter.get("required", False),
            notes=_notes(parameter.get("schema", {}), parameter.get("description", "")),
        )
        for parameter in operation.get("parameters", [])
    ]
    request_body = [
        Body(media_type=media_type, type=type_text(content.get("schema", {})))
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items()
    ]
    answers = [
        Answer(
            status=status,
            description=response.get("description", ""),
            bodies=[
                Body(media_type=media_type, type=type_text(content.get("schema", {})))
                for media_type, content in response.get("content", {}).items()
            ],
            headers=sorted(response.get("headers", {})),
        )
        for status, response in sorted(operation["responses"].items())
    ]
    return Operation(
        method=method.upper(),
        path=path,
        summary=operation.get("summary", ""),
        description=operation.get("description", ""),
        token=token,
        parameters=parameters,
        request_body=request_body,
        answers=answers,
    )


def _fields(component: dict[str, Any]) -> list[Field]:
    required = set(component.get("required", []))
    return [
        Field(
            name=name,
            type=type_text(field),
            required=name in required,
            notes=_notes(field, field.get("description", "")),
        )
        for name, field in component.get("properties", {}).items()
    ]


def type_text(schema: dict[str, Any]) -> str:
    """A JSON schema's type in a few words: `string (date-time) or null`, `array of TagPublic`."""
    if "$ref" in schema:
        return schema["$ref"].removeprefix(REF_PREFIX)
    for combined in ("anyOf", "oneOf", "allOf"):
        if combined in schema:
            return " or ".join(type_text(part) for part in schema[combined])
    if "enum" in schema:
        return "one of " + ", ".join(f'"{value}"' for value in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {type_text(schema.get('items', {}))}"
    if "format" in schema:
        return f"{kind} ({schema['format']})"
    return str(kind)


def _notes(schema: dict[str, Any], description: str) -> str:
    """The limits a value must keep, its default, and what it is for."""
    notes = []
    for part in [schema, *schema.get("anyOf", [])]:
        if "minLength" in part or "maxLength" in part:
            notes.append(f"{part.get('minLength', 0)} to {part.get('maxLength', '…')} characters")
        if "minimum" in part or "maximum" in part:
            notes.append(f"{part.get('minimum', '…')} to {part.get('maximum', '…')}")
        if "maxItems" in part:
            notes.append(f"at most {part['maxItems']} items")
    if "default" in schema and schema["default"] not in (None, [], ""):
        notes.append(f"default {schema['default']}")
    if schema.get("readOnly"):
        notes.append("read-only")
    if description:
        notes.append(description)
    return "; ".join(notes)
