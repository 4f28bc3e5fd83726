"""``Jinja2Templates``: render HTML pages with jinja2, as Starlette's module does.

jinja2 is optional (``pip install 'tether[templating]'``) and imported when the first
``Jinja2Templates`` is made, so importing this module costs nothing without it.

``templates.TemplateResponse(request, "page.html", {"items": items})`` renders the template
with the request in the context (``request`` is always there), plus what each context
processor returns. Templates get ``url_for(name, **path_params)``, which builds an absolute URL
from the request. The older ``TemplateResponse("page.html", {"request": request})`` form
still works and warns, as the peer's does. Under the test client a template response reports
its template and context: ``response.template``, ``response.context``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether.background import BackgroundTask
from tether.datastructures import URL
from tether.exceptions import require
from tether.requests import Request
from tether.responses import HTMLResponse
from tether.types import Receive, Scope, Send

__all__ = ["Jinja2Templates", "TemplatesConfigurationError"]

ContextProcessor = Callable[[Request], dict[str, Any]]
_Directory = str | os.PathLike[str] | Sequence[str | os.PathLike[str]]
_ORDER = ("context", "status_code", "headers", "media_type", "background")


class TemplatesConfigurationError(ValueError, AssertionError):
    """Neither or both of ``directory`` and ``env``.

    Also an ``AssertionError``, what the peer raises, so its tests and handlers still match;
    unlike an ``assert``, it is not removed by ``python -O``.
    """


class _TemplateResponse(HTMLResponse):
    """An HTML response that remembers which template and context made it."""

    def __init__(
        self,
        template: Any,
        context: dict[str, Any],
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
        background: BackgroundTask | None = None,
    ) -> None:
        self.template = template
        self.context = context
        super().__init__(template.render(context), status_code, headers, media_type, background)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = self.context.get("request")
        extensions = request.scope.get("extensions") or {} if request is not None else {}
        if "http.response.debug" in extensions:
            info = {"template": self.template, "context": self.context}
            await send({"type": "http.response.debug", "info": info})
        await super().__call__(scope, receive, send)


class Jinja2Templates:
    """Templates from ``directory`` (one or several) or from a ready jinja2 ``env``.

    Raises:
        MissingDependencyError: jinja2 is not installed (the ``templating`` extra).
        TemplatesConfigurationError: neither or both of ``directory`` and ``env`` were given.
    """

    def __init__(
        self,
        directory: _Directory | None = None,
        *,
        context_processors: list[ContextProcessor] | None = None,
        env: Any = None,
        **env_options: Any,
    ) -> None:
        jinja2 = require("jinja2", "templating")
        if env_options:
            warnings.warn(
                "extra jinja2 options are deprecated: pass a configured jinja2.Environment as env",
                DeprecationWarning,
                stacklevel=2,
            )
        if bool(directory) == bool(env):
            raise TemplatesConfigurationError(
                "either 'directory' or 'env' arguments must be passed"
            )
        self.context_processors = list(context_processors or ())
        if env is None:
            env_options.setdefault("loader", jinja2.FileSystemLoader(directory))
            env_options.setdefault("autoescape", True)
            env = jinja2.Environment(**env_options)
        self.env = env
        self._setup_env_defaults(env, jinja2)

    @staticmethod
    def _setup_env_defaults(env: Any, jinja2: Any) -> None:
        @jinja2.pass_context  # type: ignore[untyped-decorator]
        def url_for(context: Mapping[str, Any], name: str, /, **path_params: Any) -> URL:
            request: Request = context["request"]
            return request.url_for(name, **path_params)

        env.globals.setdefault("url_for", url_for)

    def get_template(self, name: str) -> Any:
        """The jinja2 template ``name`` (``jinja2.TemplateNotFound`` if there is none)."""
        return self.env.get_template(name)

    def TemplateResponse(self, *args: Any, **kwargs: Any) -> _TemplateResponse:  # noqa: N802 - the peer's name
        """Render ``name`` with ``context`` into an HTML response.

        Call as ``TemplateResponse(request, name, context=None, status_code=200,
        headers=None, media_type=None, background=None)``.

        Raises:
            ValueError: the old form without a ``request`` in the context.
        """
        request, name, options = _arguments(args, kwargs)
        context: dict[str, Any] = options.pop("context", None) or {}
        context.setdefault("request", request)
        for processor in self.context_processors:
            context.update(processor(request))
        return _TemplateResponse(self.get_template(name), context, **options)


def _arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, str, dict[str, Any]]:
    """``(request, name, other options)`` from either calling form."""
    if args and isinstance(args[0], str) or (not args and "request" not in kwargs):
        warnings.warn(
            "pass the request first: TemplateResponse(request, name) instead of "
            'TemplateResponse(name, {"request": request})',
            DeprecationWarning,
            stacklevel=3,
        )
        name = args[0] if args else kwargs.pop("name")
        options = dict(zip(_ORDER, args[1:], strict=False)) | kwargs
        context = options.get("context") or {}
        if "request" not in context:
            raise ValueError('context must include a "request" key')
        return context["request"], name, options
    request = args[0] if args else kwargs.pop("request")
    name = args[1] if len(args) > 1 else kwargs.pop("name")
    options = dict(zip(_ORDER, args[2:], strict=False)) | kwargs
    return request, name, options
