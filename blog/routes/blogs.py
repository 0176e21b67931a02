"""Reading and writing blogs."""

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse

from blog.blogs import create_blog, delete_blog, newest_blogs, update_blog
from blog.db import SessionDep
from blog.deps import (
    CurrentUser,
    ExistingBlog,
    FormDep,
    OwnedBlog,
    PageNumber,
    require_csrf,
)
from blog.forms import Form, validate_form
from blog.models import BlogCreate, BlogPublic, BlogUpdate
from blog.pages import render
from blog.security import flash

router = APIRouter()


@router.get("/")
def home(request: Request, session: SessionDep, page: PageNumber = 1):
    blog_page = newest_blogs(
        session=session, page=page, page_size=request.app.state.settings.page_size
    )
    if page > 1 and not blog_page.blogs:
        raise HTTPException(404, "There is no such page.")
    return render(request, "blogs/index.html", {"page": blog_page})


@router.get("/blogs/new")
def new_blog_form(request: Request, user: CurrentUser):
    return render(request, "blogs/form.html", {"form": Form(), "blog": None})


@router.post("/blogs", dependencies=[Depends(require_csrf)])
def create(request: Request, session: SessionDep, user: CurrentUser, form_data: FormDep):
    form = validate_form(BlogCreate, form_data)
    if form.data is None:
        return render(request, "blogs/form.html", {"form": form, "blog": None}, status_code=422)
    blog = create_blog(session=session, author=user, blog_create=form.data)
    flash(request, "Your blog is published.")
    return RedirectResponse(f"/blogs/{blog.id}", status_code=303)


@router.get("/blogs/{blog_id}")
def show(request: Request, blog: ExistingBlog):
    return render(request, "blogs/show.html", {"blog": BlogPublic.model_validate(blog)})


@router.get("/blogs/{blog_id}/edit")
def edit_form(request: Request, blog: OwnedBlog):
    form = Form(values={"title": blog.title, "body": blog.body})
    return render(request, "blogs/form.html", {"form": form, "blog": blog})


@router.post("/blogs/{blog_id}/edit", dependencies=[Depends(require_csrf)])
def edit(request: Request, session: SessionDep, blog: OwnedBlog, form_data: FormDep):
    form = validate_form(BlogUpdate, form_data)
    if form.data is None:
        return render(request, "blogs/form.html", {"form": form, "blog": blog}, status_code=422)
    update_blog(session=session, blog=blog, blog_update=form.data)
    flash(request, "Your changes are saved.")
    return RedirectResponse(f"/blogs/{blog.id}", status_code=303)


@router.get("/blogs/{blog_id}/delete")
def delete_confirmation(request: Request, blog: OwnedBlog):
    return render(request, "blogs/delete.html", {"blog": blog})


@router.post("/blogs/{blog_id}/delete", dependencies=[Depends(require_csrf)])
def delete(request: Request, session: SessionDep, blog: OwnedBlog):
    delete_blog(session=session, blog=blog)
    flash(request, "Your blog is deleted.")
    return RedirectResponse("/", status_code=303)
