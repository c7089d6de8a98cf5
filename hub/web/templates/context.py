"""What every page function gets: the request's language, user, URL and project (`Ctx`),
and the response that carries a page."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web
from yarl import URL

from ...render.html import Safe, esc, fmt
from ...store.accounts import Principal
from ..i18n import TEXTS, tr
from ..state import LANG, PRINCIPAL, SERVICE, VIA_SESSION


@dataclass(frozen=True)
class Ctx:
    lang: str
    user: Principal | None
    url: URL
    project: str
    hub_id: str
    labels: dict[str, str]  # label value → text in this language

    @classmethod
    def of(cls, request: web.Request) -> Ctx:
        service = request.app[SERVICE]
        lang = request.get(LANG, "nl")
        user = request.get(PRINCIPAL) if request.get(VIA_SESSION) else None
        labels = {x.value: (x.en if lang == "en" else x.nl) for x in service.schema.labels}
        return cls(lang, user, request.rel_url, service.schema.name, service.hub_id, labels)

    def t(self, key: str, **values: object) -> Safe:
        """A text in this language, with `values` escaped into it."""
        nl, en = TEXTS[key]
        return Safe(
            esc(en if self.lang == "en" else nl).format(**{k: esc(v) for k, v in values.items()})
        )

    def texts(self, **keys: str) -> dict[str, Safe]:
        """The texts for a page's placeholders (placeholder → text key), for `fmt(**…)`."""
        return {name: self.t(key) for name, key in keys.items()}

    def s(self, key: str, **values: object) -> str:
        """Plain (unescaped) text, for values that `fmt` escapes later."""
        return tr(self.lang, key, **values)

    def label(self, value: str) -> str:
        return " + ".join(self.labels.get(v, v) for v in value.split("+"))

    def lang_url(self, lang: str) -> str:
        return str(self.url.update_query(lang=lang))

    @property
    def csrf_input(self) -> Safe:
        token = self.user.csrf if self.user else ""
        return fmt('<input type="hidden" name="csrf" value="{t}">', t=token)


def respond(page: str, status: int = 200) -> web.Response:
    return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")
