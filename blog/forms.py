"""Read an HTML form, validate it into a model, and turn errors into a message per field.

FastAPI's own `Form()` models answer bad input with JSON before the route runs; a browser
needs the same page back with its fields filled in, so forms take this path instead.
"""

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fastapi import Request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import SQLModel
from starlette.datastructures import FormData

Model = TypeVar("Model", bound=SQLModel)

# Never echoed back into a page.
SECRET_FIELDS = frozenset({"password"})
# Multipart parts above this are refused by Starlette with a 400 page; it is far above
# any field's limit, so over-long text still reaches validation and gets its 422.
MAX_PART_SIZE = 8 * 1024 * 1024


@dataclass
class Form(Generic[Model]):
    """What a template needs to draw a form: the typed values and a message per bad field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    data: Model | None = None

    def add_error(self, name: str, message: str) -> None:
        self.errors[name] = message


async def read_form(request: Request) -> FormData:
    """The request's form, url-encoded or multipart; parsed once and cached on the request."""
    return await request.form(max_part_size=MAX_PART_SIZE)


def validate_form(model: type[Model], form_data: FormData) -> Form[Model]:
    """Validate the model's fields from the form; an absent field counts as blank."""
    raw = {name: form_data.get(name, "") for name in model.model_fields}
    values = {
        name: value
        for name, value in raw.items()
        if isinstance(value, str) and name not in SECRET_FIELDS
    }
    try:
        return Form(values=values, data=model.model_validate(raw))
    except ValidationError as error:
        return Form(values=values, errors=error_messages(error))


def error_messages(error: ValidationError) -> dict[str, str]:
    """The first message for each field that failed."""
    messages: dict[str, str] = {}
    for detail in error.errors():
        name = str(detail["loc"][0]) if detail["loc"] else ""
        messages.setdefault(name, _message(detail))
    return messages


def _message(detail: ErrorDetails) -> str:
    """Say what is wrong in words a person filling in a form understands."""
    kind = detail["type"]
    context = detail.get("ctx", {})
    if kind == "missing" or (kind.endswith("too_short") and detail["input"] == ""):
        return "This field is required."
    if kind.endswith("too_short"):
        return f"Must be at least {context['min_length']:,} characters."
    if kind.endswith("too_long"):
        return f"Must be at most {context['max_length']:,} characters."
    if kind == "value_error":
        return str(context["error"])
    if kind.endswith("_type"):
        return "Must be text."
    return detail["msg"]
