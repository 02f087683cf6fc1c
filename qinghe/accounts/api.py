from __future__ import annotations

from ninja import Router, Schema

from qinghe.core.http import AuthedRequest

router = Router()


class MeOut(Schema):
    username: str
    display_name: str
    role: str
    role_label: str
    organisation: str | None
    phone_masked: str


@router.get("/me", response=MeOut, url_name="me", summary="当前用户")
def me(request: AuthedRequest) -> MeOut:
    user = request.user
    return MeOut(
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        role_label=str(user.get_role_display()),
        organisation=user.organisation.name if user.organisation else None,
        phone_masked=user.phone_masked,
    )
