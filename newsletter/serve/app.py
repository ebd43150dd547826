"""The subscriber web service: sign-up with double opt-in, unsubscribe, preferences.

Every answer that concerns an address is the same whether or not the address is known, so
the service never tells anyone who is subscribed. Tokens are verified before anything is
read from the database; a GET never changes anything (link scanners follow links).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from functools import cached_property
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from newsletter.config import Config
from newsletter.deliver.feedback import Feedback
from newsletter.project import Project
from newsletter.render import project_environment, render_template
from newsletter.render.theme import build_theme
from newsletter.serve.forms import SignupForm, clean_name, read_signup
from newsletter.serve.intake import click, webhook
from newsletter.serve.labels import page_labels
from newsletter.serve.mailer import Deliver, confirmation_message, smtp_deliver
from newsletter.serve.security import CSRF_COOKIE, RateLimiter, SecurityHeaders, new_nonce
from newsletter.serve.webhooks import Context
from newsletter.signing import load_secret, unsubscribe_token
from newsletter.store.events import EventLog
from newsletter.store.subscribers import Consent, Method, Status, Subscribers
from newsletter.tokens import Purpose, TokenProblem, Tokens

log = logging.getLogger("newsletter.serve")
ONE_CLICK = "One-Click"
SIGNUP_WINDOW = 600.0  # seconds over which [serve] signups_per_ip counts


def now_utc() -> datetime:
    return datetime.now(UTC)


@dataclass
class Service:
    """Everything a request handler needs, built once per process."""

    project: Project
    subscribers: Subscribers
    events: EventLog
    tokens: Tokens
    deliver: Deliver
    suppress: Callable[[str, str], None]
    lift: Callable[[str], None]
    clock: Callable[[], datetime] = now_utc
    signup_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(10, SIGNUP_WINDOW))

    @cached_property
    def feedback(self) -> Feedback:
        return Feedback(self.events, self.subscribers, self.suppress, self.config.bounces)

    @cached_property
    def webhooks(self) -> Context:
        from newsletter.serve.intake import webhook_context

        return webhook_context(self)

    @property
    def config(self) -> Config:
        return self.project.config

    @property
    def base_url(self) -> str:
        public = self.config.serve.public_url
        return (public or f"http://{self.config.serve.host}:{self.config.serve.port}").rstrip("/")

    @property
    def languages(self) -> list[str]:
        return list(self.config.newsletter.edition_languages)

    def url(self, path: str, **params: str) -> str:
        """An absolute link, for emails; pages link relatively (see ``local``)."""
        return self.base_url + local(path, **params)


def local(path: str, **params: str) -> str:
    return path + (f"?{urlencode(params)}" if params else "")


# --- pages ------------------------------------------------------------------------------------


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
        for key, value in page_labels(lang).items()
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


# --- handlers ---------------------------------------------------------------------------------


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


async def read_form(request: Request) -> FormData | None:
    try:
        return await request.form(max_files=0, max_fields=60, max_part_size=8192)
    except Exception:  # malformed or oversized bodies: the caller answers 400
        return None


async def subscribe_page(request: Request) -> Response:
    return signup_response(request.app.state.service, request)


async def subscribe(request: Request) -> Response:
    service: Service = request.app.state.service
    form_data = await read_form(request)
    if form_data is None:
        return message_page(service, request, "errors_title", "invalid_body", status=400)
    if not csrf_ok(service, request, form_data):
        return message_page(service, request, "forbidden_title", "forbidden_body", status=403)
    if not service.signup_limiter.allow(client_ip(request)):
        return message_page(service, request, "too_many_title", "too_many_body", status=429)
    check = local("/subscribe/check", lang=page_language(service, request))
    if str(form_data.get("website", "")).strip():  # the honeypot: a bot filled it in
        return RedirectResponse(check, status_code=303)
    form = read_signup(
        {k: str(v) for k, v in form_data.items() if isinstance(v, str)},
        [str(v) for v in form_data.getlist("topics")],
        languages=service.languages,
        topics=service.config.serve.topics,
    )
    if not form.ok:
        return signup_response(service, request, form, status=422)
    now = service.clock()
    outcome = service.subscribers.request(
        form.email,
        name=form.name,
        language=form.language,
        topics=form.topics,
        consent=Consent(Method.form, service.config.serve.consent_text, client_ip(request)),
        now=now,
    )
    task = None
    if outcome.send_confirmation and outcome.subscriber.confirm_nonce:
        token = service.tokens.sign(
            Purpose.confirm, {"e": form.email, "n": outcome.subscriber.confirm_nonce}
        )
        message = confirmation_message(
            service.project,
            to=form.email,
            name=form.name,
            language=form.language,
            link=service.url("/confirm", token=token, lang=form.language),
        )
        # After the answer is sent, so that known and new addresses take the same time.
        task = BackgroundTask(_send_quietly, service.deliver, message)
    return RedirectResponse(check, status_code=303, background=task)


def _send_quietly(deliver: Deliver, message: EmailMessage) -> None:
    try:
        deliver(message)
    except Exception as exc:  # the visitor has their answer; the operator reads the log
        log.error("could not send the confirmation mail: %s", exc)


async def embed_form(request: Request) -> Response:
    """The sign-up form as an HTML snippet for another site (e.g. a WordPress block)."""
    service: Service = request.app.state.service
    lang = page_language(service, request)
    words = {
        k: v.format(name=service.config.newsletter.name, email="", about="")
        for k, v in page_labels(lang).items()
    }
    html = render_template(
        project_environment(service.project),
        "serve/embed.html.j2",
        {
            "newsletter": service.config.newsletter,
            "t": words,
            "lang": lang,
            "languages": service.languages,
            "topics": service.config.serve.topics,
            "consent_text": service.config.serve.consent_text,
            "action": service.url("/subscribe", lang=lang),
        },
    )
    return PlainTextResponse(html)


async def subscribe_check(request: Request) -> Response:
    service: Service = request.app.state.service
    return message_page(service, request, "check_title", "check_body")


def confirm_data(
    service: Service, request: Request, token: str
) -> tuple[dict[str, Any] | None, Response | None]:
    verified = service.tokens.verify(Purpose.confirm, token)
    if not verified.ok or not verified.data:
        return None, token_problem_page(service, request, verified.problem)
    data = verified.data
    if not isinstance(data.get("e"), str) or not isinstance(data.get("n"), str):
        return None, token_problem_page(service, request, TokenProblem.invalid)
    return data, None


async def confirm_page(request: Request) -> Response:
    service: Service = request.app.state.service
    token = request.query_params.get("token", "")
    data, problem = confirm_data(service, request, token)
    if problem is not None or data is None:
        return problem or token_problem_page(service, request, None)
    nonce, csrf = csrf_pair(service, request)
    response = render_page(
        service,
        request,
        "serve/confirm.html.j2",
        email=data["e"],
        csrf=csrf,
        action=local("/confirm", token=token, lang=page_language(service, request)),
    )
    return with_csrf_cookie(response, request, nonce)


async def confirm(request: Request) -> Response:
    service: Service = request.app.state.service
    token = request.query_params.get("token", "")
    data, problem = confirm_data(service, request, token)
    if problem is not None or data is None:
        return problem or token_problem_page(service, request, None)
    form_data = await read_form(request)
    if form_data is None or not csrf_ok(service, request, form_data):
        return message_page(service, request, "forbidden_title", "forbidden_body", status=403)
    now = service.clock()
    done = service.subscribers.confirm(
        data["e"], data["n"], consent=Consent(Method.link, None, client_ip(request)), now=now
    )
    if done is None:
        return message_page(service, request, "link_used_title", "link_used_body", status=410)
    service.lift(done.email)  # a new, proven consent lifts an earlier unsubscribe
    return render_page(
        service,
        request,
        "serve/message.html.j2",
        email=done.email,
        title="confirmed_title",
        body="confirmed_body",
        preferences_url=preferences_link(service, done.email, done.language),
    )


def preferences_link(service: Service, email: str, lang: str) -> str:
    token = service.tokens.sign(Purpose.preferences, {"e": email})
    return service.url("/preferences", token=token, lang=lang)


def unsubscribe_address(service: Service, request: Request) -> str | None:
    return service.tokens.unsubscribe_address(request.query_params.get("token", ""))


def do_unsubscribe(service: Service, email: str, method: Method, ip: str) -> None:
    now = service.clock()
    service.subscribers.set_status(
        email, Status.unsubscribed, consent=Consent(method, None, ip), now=now
    )
    # Also for addresses that came from an audience file: every later send leaves them out.
    service.suppress(email, "unsubscribed")


async def unsubscribe_page(request: Request) -> Response:
    """A GET never unsubscribes: it shows one button, and the way to the preferences."""
    service: Service = request.app.state.service
    email = unsubscribe_address(service, request)
    if email is None:
        return token_problem_page(service, request, TokenProblem.invalid)
    lang = page_language(service, request)
    return render_page(
        service,
        request,
        "serve/unsubscribe.html.j2",
        lang=lang,
        email=email,
        action=local("/unsubscribe", token=request.query_params.get("token", ""), lang=lang),
        preferences_url=preferences_link(service, email, lang),
    )


async def unsubscribe(request: Request) -> Response:
    """RFC 8058: a POST of ``List-Unsubscribe=One-Click`` unsubscribes at once, with no page."""
    service: Service = request.app.state.service
    email = unsubscribe_address(service, request)
    form_data = await read_form(request)
    one_click = form_data is not None and form_data.get("List-Unsubscribe") == ONE_CLICK
    if email is None:
        if one_click:
            return PlainTextResponse("invalid token", status_code=400)
        return token_problem_page(service, request, TokenProblem.invalid)
    if form_data is None or not (one_click or form_data.get("confirm")):
        return PlainTextResponse("nothing to do", status_code=400)
    do_unsubscribe(
        service, email, Method.one_click if one_click else Method.link, client_ip(request)
    )
    if one_click:
        return Response(status_code=200)
    return message_page(service, request, "unsubscribed_title", "unsubscribed_body", email=email)


def preferences_address(service: Service, request: Request) -> tuple[str | None, Response | None]:
    verified = service.tokens.verify(Purpose.preferences, request.query_params.get("token", ""))
    if not verified.ok or not verified.data or not isinstance(verified.data.get("e"), str):
        return None, token_problem_page(service, request, verified.problem)
    return verified.data["e"], None


def preferences_response(
    service: Service,
    request: Request,
    email: str,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    found = service.subscribers.get(email)
    nonce, csrf = csrf_pair(service, request)
    lang = page_language(service, request)
    unsubscribe_url = service.url(
        "/unsubscribe", token=unsubscribe_token(service.tokens.secret, email), lang=lang
    )
    response = render_page(
        service,
        request,
        "serve/preferences.html.j2",
        status=status,
        lang=lang,
        email=email,
        subscriber=found,
        current_language=found.language if found else service.languages[0],
        current_topics=list(found.topics) if found else [],
        current_name=found.name if found else "",
        topics=service.config.serve.topics,
        csrf=csrf,
        saved=saved,
        errors=errors or {},
        action=local("/preferences", token=request.query_params.get("token", ""), lang=lang),
        unsubscribe_url=unsubscribe_url,
    )
    return with_csrf_cookie(response, request, nonce)


async def preferences_page(request: Request) -> Response:
    service: Service = request.app.state.service
    email, problem = preferences_address(service, request)
    if email is None:
        return problem or token_problem_page(service, request, None)
    return preferences_response(service, request, email)


async def preferences(request: Request) -> Response:
    service: Service = request.app.state.service
    email, problem = preferences_address(service, request)
    if email is None:
        return problem or token_problem_page(service, request, None)
    form_data = await read_form(request)
    if form_data is None or not csrf_ok(service, request, form_data):
        return message_page(service, request, "forbidden_title", "forbidden_body", status=403)
    if form_data.get("unsubscribe"):
        do_unsubscribe(service, email, Method.link, client_ip(request))
        return message_page(
            service, request, "unsubscribed_title", "unsubscribed_body", email=email
        )
    language = str(form_data.get("language", ""))
    topics = [str(t) for t in form_data.getlist("topics")]
    name = clean_name(str(form_data.get("name", ""))[:200])
    errors = {}
    if language not in service.languages:
        errors["language"] = "error_language"
    if any(t not in service.config.serve.topics for t in topics):
        errors["topics"] = "error_topics"
    if name is None:
        errors["name"] = "error_name"
    if errors:
        return preferences_response(service, request, email, errors=errors, status=422)
    service.subscribers.update_preferences(
        email,
        name=name or "",
        language=language,
        topics=topics,
        consent=Consent(Method.link, None, client_ip(request)),
        now=service.clock(),
    )
    return preferences_response(service, request, email, saved=True)


async def stylesheet(request: Request) -> Response:
    service: Service = request.app.state.service
    css = render_template(
        project_environment(service.project),
        "serve/serve.css.j2",
        {"theme": build_theme(service.config.brand), "brand": service.config.brand},
    )
    return Response(css, media_type="text/css", headers={"cache-control": "public, max-age=3600"})


async def health(request: Request) -> Response:
    return PlainTextResponse("ok")


async def not_found(request: Request, exc: Exception) -> Response:
    return message_page(
        request.app.state.service, request, "not_found_title", "not_found_body", status=404
    )


def create_app(service: Service) -> Starlette:
    routes = [
        Route("/", lambda r: RedirectResponse("/subscribe", status_code=303)),
        Route("/subscribe", subscribe_page, methods=["GET"]),
        Route("/subscribe", subscribe, methods=["POST"]),
        Route("/subscribe/check", subscribe_check, methods=["GET"]),
        Route("/subscribe/form.html", embed_form, methods=["GET"]),
        Route("/confirm", confirm_page, methods=["GET"]),
        Route("/confirm", confirm, methods=["POST"]),
        Route("/unsubscribe", unsubscribe_page, methods=["GET"]),
        Route("/unsubscribe", unsubscribe, methods=["POST"]),
        Route("/preferences", preferences_page, methods=["GET"]),
        Route("/preferences", preferences, methods=["POST"]),
        Route("/assets/serve.css", stylesheet, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/webhooks/{provider}", webhook, methods=["POST"]),
        Route("/r/{link}", click, methods=["GET"]),
    ]
    app = Starlette(routes=routes, exception_handlers={404: not_found})
    app.state.service = service
    return SecurityHeaders(app)  # type: ignore[return-value]


def build_service(project: Project, *, deliver: Deliver | None = None) -> Service:
    """The service over the project's database, secret and transport."""
    from newsletter.store.subscribers import open_subscribers
    from newsletter.store.suppression import SuppressionList

    secret = load_secret()

    def suppress(email: str, reason: str) -> None:
        with SuppressionList(project.database) as suppressions:
            suppressions.add([(0, email)], reason, source="serve")

    def lift(email: str) -> None:
        with SuppressionList(project.database) as suppressions:
            if any(e.email == email and e.reason == "unsubscribed" for e in suppressions.entries()):
                suppressions.remove([email])

    config = project.config
    subscribers = open_subscribers(project)
    return Service(
        project=project,
        subscribers=subscribers,
        events=EventLog(subscribers.engine),
        tokens=Tokens(secret),
        deliver=deliver or smtp_deliver(config),
        suppress=suppress,
        lift=lift,
        signup_limiter=RateLimiter(config.serve.signups_per_ip, SIGNUP_WINDOW),
    )
