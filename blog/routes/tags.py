"""Tag pages: every published blog under one tag, and the list of tags."""

from fastapi import APIRouter, Depends, HTTPException, Request

from blog.blogs import newest_blogs, popular_tags
from blog.db import SessionDep
from blog.deps import TagInAddress, tag_in_address
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, BlogListPosition

router = APIRouter()


@router.get("/tags", name="tags")
async def index(request: Request, session: SessionDep):
    return render(request, "tags/index.html", {"tags": popular_tags(session=session)})


@router.get("/tags/{tag}", name="tag_page")
async def show(
    request: Request, session: SessionDep, tag: TagInAddress, position: BlogListPosition
):
    blog_page = newest_blogs(
        session=session, position=position, page_size=request.app.state.settings.page_size, tag=tag
    )
    if not blog_page.blogs:
        no_blogs = "No published blog has this tag." if position == FIRST_PAGE else NO_SUCH_PAGE
        raise HTTPException(404, no_blogs)
    return render(request, "tags/show.html", {"tag": tag, "page": blog_page})


@router.get(
    "/tags/{tag}/", name="tag_page_with_a_trailing_slash", dependencies=[Depends(tag_in_address)]
)
def show_with_a_trailing_slash() -> None:
    """Never reached: the dependency answers `/tags/Python/` with one 301 to `/tags/python`
    (without this route, Starlette's own slash redirect would come first, then that 301)."""
    raise HTTPException(404)
