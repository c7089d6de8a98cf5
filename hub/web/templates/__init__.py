"""The dashboard's pages as functions: data in, escaped HTML out (see `hub.render.html.fmt`).
One module per page; `layout` holds the frame and the parts the pages share."""

from __future__ import annotations

from .context import Ctx, respond
from .kiosks import kiosk_cells, kiosks_page
from .layout import error_flash, error_page, flash_from_query
from .login import login_page
from .operators import operators_page
from .progress import progress_page
from .quality import quality_page
from .statement import statement_page

__all__ = [
    "Ctx",
    "error_flash",
    "error_page",
    "flash_from_query",
    "kiosk_cells",
    "kiosks_page",
    "login_page",
    "operators_page",
    "progress_page",
    "quality_page",
    "respond",
    "statement_page",
]
