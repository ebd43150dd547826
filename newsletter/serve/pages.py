"""What every page of the service shares: its language, the page template, CSRF, the form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from newsletter.render import project_environment, render_template
from newsletter.render.theme import build_theme
from newsletter.serve.forms import SignupForm
from newsletter.serve.labels import page_labels
from newsletter.serve.security import CSRF_COOKIE, new_nonce
from newsletter.serve.service import Service, local
from newsletter.tokens import Purpose, TokenProblem


def page_language(service: Service, request: Request) -> str:
    """?lang=, else the browser's preference among the editions, else the default edition."""
    languages = service.languages
    asked = request.query_params.get("lang", "")
    if asked in languages:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip().lower()
        for lang in languages:
            if code == lang or code.split("-")[0] == lang.split("-")[0]:
                return lang
            if {code.split("-")[0], lang} <= {"no", "nb", "nn"}:
                return lang
    return languages[0]


def render_page(
    service: Service,
    request: Request,
    template: str,
    *,
    status: int = 200,
    lang: str | None = None,
    email: str = "",
    **context: Any,
) -> HTMLResponse:
    lang = lang or page_language(service, request)
    settings = service.config.newsletter
    words = {
        key: value.format(name=settings.name, email=email, about=settings.about)
        for key, value in page_labels(lang, service.project.locale_dir).items()
    }
    context.update(
        newsletter=settings,
        serve=service.config.serve,
        theme=build_theme(service.config.brand),
        t=words,
        lang=lang,
        languages=service.languages,
        archive_url=settings.web_url.rstrip("/") + "/",
        signup_url=local("/subscribe", lang=lang),
    )
    html = render_template(project_environment(service.project), template, context)
    return HTMLResponse(html, status_code=status)


def message_page(
    service: Service, request: Request, title: str, body: str, *, status: int = 200, **kw: Any
) -> HTMLResponse:
    return render_page(
        service, request, "serve/message.html.j2", status=status, title=title, body=body, **kw
    )


def token_problem_page(
    service: Service, request: Request, problem: TokenProblem | None
) -> HTMLResponse:
    if problem is TokenProblem.expired:
        return message_page(service, request, "expired_title", "expired_body", status=410)
    return message_page(service, request, "invalid_title", "invalid_body", status=400)


# --- CSRF -------------------------------------------------------------------------------------


def csrf_pair(service: Service, request: Request) -> tuple[str, str]:
    """The cookie nonce (kept or new) and the signed form field that must match it."""
    nonce = request.cookies.get(CSRF_COOKIE) or new_nonce()
    return nonce, service.tokens.sign(Purpose.csrf, {"n": nonce})


def with_csrf_cookie(response: Response, request: Request, nonce: str) -> Response:
    response.set_cookie(
        CSRF_COOKIE,
        nonce,
        max_age=2 * 3600,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


def csrf_ok(service: Service, request: Request, form: FormData) -> bool:
    """The form's token matches the cookie, or the post comes from an allowed embedding site."""
    token = str(form.get("csrf", ""))
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if token and cookie:
        verified = service.tokens.verify(Purpose.csrf, token)
        return bool(verified.ok and verified.data and verified.data.get("n") == cookie)
    origin = request.headers.get("origin") or request.headers.get("referer") or ""
    if not origin:
        return False
    host = urlsplit(origin)
    allowed = [urlsplit(u) for u in service.config.serve.allowed_origins]
    return any((host.scheme, host.netloc) == (a.scheme, a.netloc) for a in allowed)


def client_ip(request: Request) -> str:
    # uvicorn has already replaced it with X-Forwarded-For when the peer is a trusted proxy.
    return request.client.host if request.client else "unknown"


async def read_form(request: Request) -> FormData | None:
    try:
        return await request.form(max_files=0, max_fields=60, max_part_size=8192)
    except Exception:  # malformed or oversized bodies: the caller answers 400
        return None


def signup_response(
    service: Service, request: Request, form: SignupForm | None = None, *, status: int = 200
) -> Response:
    nonce, token = csrf_pair(service, request)
    lang = page_language(service, request)
    response = render_page(
        service,
        request,
        "serve/signup.html.j2",
        status=status,
        lang=lang,
        form=form or SignupForm(language=lang),
        csrf=token,
        topics=service.config.serve.topics,
        consent_text=service.config.serve.consent_text,
        action=local("/subscribe", lang=lang),
    )
    return with_csrf_cookie(response, request, nonce)
