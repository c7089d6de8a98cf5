"""The login page."""

from __future__ import annotations

from ...render.html import Safe, fmt
from .context import Ctx
from .layout import error_flash, layout


def login_page(ctx: Ctx, token: str, next_url: str, error: str | None) -> str:
    body = fmt(
        '<section class="narrow login"><h1>{title}</h1>{error}'
        '<form method="post" action="/login" class="stack">'
        '<input type="hidden" name="csrf" value="{token}">'
        '<input type="hidden" name="next" value="{next}">'
        '<label>{user}<input name="username" autocomplete="username" required autofocus></label>'
        '<label>{pw}<input name="password" type="password" autocomplete="current-password" '
        "required></label>"
        '<button type="submit" class="primary">{title}</button></form></section>',
        title=ctx.t("login"),
        error=error_flash(ctx.t(error) if error else None) or Safe(""),
        token=token,
        next=next_url,
        user=ctx.t("username"),
        pw=ctx.t("password"),
    )
    return layout(ctx, ctx.s("login"), body)
