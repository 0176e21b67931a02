"""Reading and writing blogs."""

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog.blogs import (
    BlogSummary,
    EditConflict,
    create_blog,
    delete_blog,
    newest_blogs,
    update_blog,
)
from blog.db import SessionDep
from blog.deps import (
    CurrentUser,
    DeletableBlog,
    FormDep,
    OwnedBlog,
    ShownBlog,
    ShownBlogWithComments,
    require_csrf,
)
from blog.forms import Form, validate_form
from blog.models import Blog, BlogCreate, BlogStatus, BlogUpdate
from blog.pages import render
from blog.paging import FIRST_PAGE, NO_SUCH_PAGE, BlogListPosition
from blog.security import flash
from blog.text import render_markdown
from blog.urls import url_path

router = APIRouter()

# The form's second button; its value says "show me, don't save".
PREVIEW = "preview"
SAVED_MESSAGES = {
    BlogStatus.PUBLISHED: "Your blog is published.",
    BlogStatus.DRAFT: "Your draft is saved. Only you can see it.",
    BlogStatus.SCHEDULED: "Your blog is scheduled. Only you can see it until then.",
}
EDITED_MESSAGES = {
    BlogStatus.PUBLISHED: "Your changes are saved.",
    BlogStatus.DRAFT: "Your changes are saved. It is a draft: only you can see it.",
    BlogStatus.SCHEDULED: "Your changes are saved. It is scheduled: only you see it until then.",
}


@router.get("/", name="home")
async def home(request: Request, session: SessionDep, position: BlogListPosition):
    blog_page = newest_blogs(
        session=session, position=position, page_size=request.app.state.settings.page_size
    )
    if position != FIRST_PAGE and not blog_page.blogs:
        raise HTTPException(404, NO_SUCH_PAGE)
    return render(request, "blogs/index.html", {"page": blog_page})


@router.get("/blogs/new", name="new_blog_form")
def new_blog_form(request: Request, user: CurrentUser):
    return _form_page(request, Form(), blog=None)


@router.post("/blogs", name="create_blog", dependencies=[Depends(require_csrf)])
def create(request: Request, session: SessionDep, user: CurrentUser, form_data: FormDep):
    form = validate_form(BlogCreate, form_data)
    if form.data is None or form_data.get("action") == PREVIEW:
        return _form_page(request, form, blog=None, preview=form_data.get("action") == PREVIEW)
    blog = create_blog(session=session, author=user, blog_create=form.data)
    flash(request, SAVED_MESSAGES[blog.status])
    return RedirectResponse(_page_of(request, blog), status_code=303)


@router.get("/blogs/{blog_id}", name="blog_short_address")
async def short_address(request: Request, blog: ShownBlog):
    return _moved_to(request, blog)


@router.get("/blogs/{blog_id}/edit", name="edit_blog_form")
def edit_form(request: Request, blog: OwnedBlog):
    return _form_page(request, Form(values=_form_values(blog)), blog=blog)


@router.post("/blogs/{blog_id}/edit", name="edit_blog", dependencies=[Depends(require_csrf)])
def edit(request: Request, session: SessionDep, blog: OwnedBlog, form_data: FormDep):
    form = validate_form(BlogUpdate, form_data)
    if not form.values.get("version"):
        # A form from before versions existed is checked against the blog as it is now.
        form.values["version"] = str(blog.version)
    if form.data is None or form_data.get("action") == PREVIEW:
        return _form_page(request, form, blog=blog, preview=form_data.get("action") == PREVIEW)
    try:
        update_blog(session=session, blog=blog, blog_update=form.data)
    except EditConflict as conflict:
        # Keep what was typed; the form now carries the newer version, so saving again is a
        # deliberate choice to replace the other changes.
        form.values["version"] = str(conflict.blog.version)
        notice = (
            "This blog was changed in another tab or window after you opened this form. "
            "Your text is kept below and nothing was saved. Open the blog in a new tab to "
            "compare; press Save again to replace those changes with yours."
        )
        return _form_page(request, form, blog=blog, notice=notice, status_code=409)
    flash(request, EDITED_MESSAGES[blog.status])
    return RedirectResponse(_page_of(request, blog), status_code=303)


@router.get("/blogs/{blog_id}/delete", name="delete_blog_form")
def delete_confirmation(request: Request, blog: DeletableBlog):
    return render(request, "blogs/delete.html", {"blog": blog})


@router.post("/blogs/{blog_id}/delete", name="delete_blog", dependencies=[Depends(require_csrf)])
def delete(request: Request, session: SessionDep, user: CurrentUser, blog: DeletableBlog):
    is_own = blog.author_id == user.id
    delete_blog(session=session, blog=blog)
    flash(request, "Your blog is deleted." if is_own else "The blog is deleted.")
    return RedirectResponse(url_path(request, "home"), status_code=303)


# Last, so /blogs/{id}/edit and /blogs/{id}/delete are never read as a slug.
# `async`: the blog is read by its dependency, on the event loop like every read (blog.db), and
# drawing the page needs no thread of its own.
@router.get("/blogs/{blog_id}/{slug}", name="blog_page")
async def show(request: Request, shown: ShownBlogWithComments, slug: str):
    blog = shown.blog
    if request.url.path != _page_of(request, blog):
        return _moved_to(request, blog)
    context = {"blog": blog, "comments": shown.comments, "comment_form": Form()}
    return render(request, "blogs/show.html", context)


def _page_of(request: Request, blog: Blog | BlogSummary) -> str:
    """The blog's one current address; older ones (no slug, an old title's slug) redirect here."""
    return url_path(request, "blog_page", blog_id=blog.id, slug=blog.slug)


def _moved_to(request: Request, blog: Blog | BlogSummary) -> RedirectResponse:
    """Old and short addresses point search engines and bookmarks at the one current address
    (keeping the page of comments asked for)."""
    comments_page = request.query_params.get("comments")
    query = f"?{urlencode({'comments': comments_page})}" if comments_page else ""
    return RedirectResponse(_page_of(request, blog) + query, status_code=301)


def _form_values(blog: Blog) -> dict[str, str]:
    """The edit form as the saved blog fills it in."""
    scheduled = blog.status == BlogStatus.SCHEDULED
    return {
        "title": blog.title,
        "body": blog.body,
        "tags": ", ".join(tag.name for tag in blog.tags),
        "status": blog.status,
        "publish_at": f"{blog.published_at:%Y-%m-%dT%H:%M}" if scheduled else "",
        "version": str(blog.version),
        "comments_open": "true" if blog.comments_open else "false",
    }


def _form_page(
    request: Request,
    form: Form,
    *,
    blog: Blog | None,
    preview: bool = False,
    notice: str | None = None,
    status_code: int | None = None,
):
    """The write/edit form; a preview shows the body as it will look, saving nothing."""
    body_html = None
    if preview and "body" not in form.errors:
        body_html = render_markdown(form.values.get("body", ""))
    context = {
        "form": form,
        "blog": blog,
        "preview": body_html,
        "notice": notice,
    }
    return render(request, "blogs/form.html", context, status_code or (422 if form.errors else 200))
