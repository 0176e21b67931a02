"""Tag pages: every published blog under one tag, and the list of tags."""

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path, Request
from fastapi.responses import RedirectResponse

from blog.blogs import newest_blogs, popular_tags
from blog.db import SessionDep
from blog.deps import PageNumber
from blog.models import TAG_MAX_LENGTH, normalize_tag
from blog.pages import render

router = APIRouter()

# Longer is never a tag; anything up to this is looked up (and normalized) before a 404.
TagName = Annotated[str, Path(max_length=TAG_MAX_LENGTH * 4)]


@router.get("/tags")
def index(request: Request, session: SessionDep):
    return render(request, "tags/index.html", {"tags": popular_tags(session=session)})


@router.get("/tags/{tag}")
def show(request: Request, session: SessionDep, tag: TagName, page: PageNumber = 1):
    if tag != normalize_tag(tag) and normalize_tag(tag):
        # /tags/Python and /tags/python are one page.
        return RedirectResponse(f"/tags/{quote(normalize_tag(tag), safe='')}", status_code=301)
    blog_page = newest_blogs(
        session=session, page=page, page_size=request.app.state.settings.page_size, tag=tag
    )
    if not blog_page.blogs:
        raise HTTPException(404, "No published blog has this tag.")
    return render(request, "tags/show.html", {"tag": tag, "page": blog_page})
