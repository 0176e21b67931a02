"""Searching published blogs."""

from fastapi import APIRouter, HTTPException, Request

from blog.db import SessionDep
from blog.deps import PageNumber
from blog.pages import render
from blog.search import search_blogs

router = APIRouter()

# Long enough for any real question; longer input is cut, not refused.
QUERY_MAX_LENGTH = 200


@router.get("/search", name="search")
def search(request: Request, session: SessionDep, q: str = "", page: PageNumber = 1):
    query = q.strip()[:QUERY_MAX_LENGTH]
    results = search_blogs(
        session=session, query=query, page=page, page_size=request.app.state.settings.page_size
    )
    if page > 1 and not results.results:
        raise HTTPException(404, "There is no such page.")
    return render(request, "search.html", {"query": query, "page": results})
