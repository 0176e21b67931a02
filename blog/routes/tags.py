"""Tag pages: every published blog under one tag, and the list of tags."""

from fastapi import APIRouter, HTTPException, Request

from blog.blogs import newest_blogs, popular_tags
from blog.db import SessionDep
from blog.deps import TagInAddress
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, BlogListPosition

router = APIRouter()


@router.get("/tags")
def index(request: Request, session: SessionDep):
    return render(request, "tags/index.html", {"tags": popular_tags(session=session)})


@router.get("/tags/{tag}")
def show(request: Request, session: SessionDep, tag: TagInAddress, position: BlogListPosition):
    blog_page = newest_blogs(
        session=session, position=position, page_size=request.app.state.settings.page_size, tag=tag
    )
    if not blog_page.blogs:
        no_blogs = "No published blog has this tag." if position == FIRST_PAGE else NO_SUCH_PAGE
        raise HTTPException(404, no_blogs)
    return render(request, "tags/show.html", {"tag": tag, "page": blog_page})
