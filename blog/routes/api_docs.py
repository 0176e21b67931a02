"""The JSON API's reference, a page drawn from its OpenAPI schema."""

from fastapi import APIRouter, Request

from blog.api.reference import Reference, reference
from blog.pages import render

router = APIRouter()


@router.get("/api/docs", name="api_docs")
async def api_docs(request: Request):
    return render(request, "api/docs.html", {"api": _reference(request)})


def _reference(request: Request) -> Reference:
    """Read from the schema once per app: neither changes while it runs."""
    state = request.app.state
    if getattr(state, "api_reference", None) is None:
        state.api_reference = reference(state.api.openapi())
    return state.api_reference
