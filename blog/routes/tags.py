"""Tag pages: every published blog under one tag, and the list of tags."""

from fastapi import APIRouter, HTTPException, Request

from blog.blogs import newest_blogs, popular_tags
from blog.db import SessionDep
from blog.deps import PageNumber, TagInAddress
from blog.pages import render

router = APIRouter()


@router.get("/tags")
def index(request: Request, session: SessionDep):
    return render(request, "tags/index.html", {"tags": popular_tags(session=session)})


@router.get("/tags/{tag}")
def show(request: Request, session: SessionDep, tag: TagInAddress, page: PageNumber = 1):
    blog_page = newest_blogs(
        session=session, page=page, page_size=request.app.state.settings.page_size, tag=tag
    )
    if not blog_page.blogs:
        raise HTTPException(404, "No published blog has this tag.")
    return render(request, "tags/show.html", {"tag": tag, "page": blog_page})
