"""Your data: everything your account holds, to take elsewhere."""

from fastapi import APIRouter
from fastapi.responses import Response

from blog.db import SessionDep
from blog.deps import CurrentUser
from blog.export import account_archive, archive_name

router = APIRouter()


@router.get("/account/export", name="export_account")
def export(session: SessionDep, user: CurrentUser):
    return Response(
        account_archive(session=session, user=user),
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{archive_name(user)}"',
            # Private data: no cache along the way keeps a copy.
            "Cache-Control": "no-store",
        },
    )
