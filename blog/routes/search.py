"""Searching published blogs."""

from fastapi import APIRouter, HTTPException, Request

from blog.db import SessionDep
from blog.deps import PageNumber
from blog.pages import render
from blog.search import reader_query, search_blogs

router = APIRouter()


@router.get("/search", name="search")
async def search(request: Request, session: SessionDep, q: str = "", page: PageNumber = 1):
    query = reader_query(q)
    results = search_blogs(
        session=session, query=query, page=page, page_size=request.app.state.settings.page_size
    )
    if page > 1 and not results.results:
        raise HTTPException(404, "There is no such page.")
    return render(request, "search.html", {"query": query, "page": results})
