"""The subscriber web service: sign-up with double opt-in, unsubscribe, preferences.

Every answer that concerns an address is the same whether or not the address is known, so
the service never tells anyone who is subscribed. Tokens are verified before anything is
read from the database; a GET never changes anything (link scanners follow links).
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from newsletter.render import project_environment, render_template
from newsletter.render.theme import build_theme
from newsletter.serve.forms import clean_name, read_signup
from newsletter.serve.intake import click, webhook
from newsletter.serve.labels import page_labels
from newsletter.serve.mailer import Deliver, confirmation_message
from newsletter.serve.pages import (
    client_ip,
    csrf_ok,
    csrf_pair,
    message_page,
    page_language,
    read_form,
    render_page,
    signup_response,
    token_problem_page,
    with_csrf_cookie,
)
from newsletter.serve.security import SecurityHeaders
from newsletter.serve.service import Service, build_service, local, now_utc
from newsletter.signing import unsubscribe_token
from newsletter.store.subscribers import Consent, Method, Status
from newsletter.tokens import Purpose, TokenProblem

log = logging.getLogger("newsletter.serve")
ONE_CLICK = "One-Click"

__all__ = ["Service", "build_service", "create_app", "now_utc"]


# --- handlers ---------------------------------------------------------------------------------


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
        for k, v in page_labels(lang, service.project.locale_dir).items()
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
