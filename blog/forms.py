"""Read an HTML form, validate it into a model, and turn errors into a message per field.

FastAPI's own `Form()` models answer bad input with JSON before the route runs; a browser
needs the same page back with its fields filled in, so forms take this path instead.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from fastapi import HTTPException, Request
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlmodel import SQLModel
from starlette.datastructures import FormData

Model = TypeVar("Model", bound=SQLModel)

# Never echoed back into a page.
SECRET_FIELDS = frozenset({"password", "current_password", "new_password"})
# Larger forms get a 413 page before they are read. This is far above the longest valid form
# (a 100,000-character body, up to 12 bytes a character once URL-encoded), so over-long
# fields still reach validation and get their message at the field.
MAX_FORM_BYTES = 8 * 1024 * 1024


@dataclass
class Form(Generic[Model]):
    """What a template needs to draw a form: the typed values and a message per bad field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    data: Model | None = None

    def add_error(self, name: str, message: str) -> None:
        self.errors[name] = message

    @property
    def first_error(self) -> str | None:
        """The field that takes the focus, so keyboard and screen reader users land on it."""
        return next(iter(self.errors), None)


async def read_form(request: Request) -> AsyncIterator[FormData]:
    """The request's form, url-encoded or multipart, closed (with any uploads) afterwards."""
    declared_size = request.headers.get("content-length", "")
    if declared_size.isdigit() and int(declared_size) > MAX_FORM_BYTES:
        raise HTTPException(413, "That is more than any form here accepts.")
    async with request.form(max_part_size=MAX_FORM_BYTES) as form:
        yield form


def validate_form(model: type[Model], form_data: FormData) -> Form[Model]:
    """Validate the model's fields from the form.

    An absent field counts as blank, so it gets "required" where it is; only the fields a model
    lists in `OMITTABLE_FIELDS` (radio buttons with none chosen, fields older forms lack) are
    left unset instead, so the model's default or the stored value stands.
    """
    omittable = getattr(model, "OMITTABLE_FIELDS", frozenset())
    raw = {
        name: form_data.get(name, "")
        for name in model.model_fields
        if name in form_data or name not in omittable
    }
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
        messages.setdefault(name, error_message(detail))
    return messages


def error_message(detail: ErrorDetails) -> str:
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
    if kind == "enum":
        return "Choose one of the options."
    if kind.endswith("_type"):
        return "Must be text."
    return detail["msg"]
