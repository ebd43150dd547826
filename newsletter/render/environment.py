"""The Jinja2 environment: project templates over the packaged ones, and template errors."""

from __future__ import annotations

import contextlib
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache

from newsletter.errors import RenderError
from newsletter.project import Project
from newsletter.render.textfmt import FILTERS


def package_templates() -> Path:
    """The default templates shipped inside the package."""
    return Path(str(files("newsletter") / "templates"))


class _QuietBytecodeCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates on disk, for faster cold starts; a read-only folder only costs time."""

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def make_environment(
    template_dirs: list[Path], *, cache_dir: Path | None = None
) -> jinja2.Environment:
    bytecode_cache = None
    if cache_dir is not None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = _QuietBytecodeCache(str(cache_dir))
        except OSError:
            pass
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(d) for d in template_dirs]),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("mjml", "html", "xml", "mjml.j2", "html.j2", "xml.j2"),
            default_for_string=True,
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=bytecode_cache,
        # {{ _("...") }} and {% trans %}: each render passes its edition's catalog.
        extensions=["jinja2.ext.i18n"],
    )
    env.filters.update(FILTERS)
    return env


@lru_cache(maxsize=16)
def _cached_environment(dirs: tuple[Path, ...], cache_dir: Path) -> jinja2.Environment:
    # Compiled templates live in the environment; the loader still notices edited files.
    return make_environment(list(dirs), cache_dir=cache_dir)


def project_environment(project: Project) -> jinja2.Environment:
    """Project templates first, then the package defaults for anything not overridden."""
    dirs = [project.templates_dir] if project.templates_dir.is_dir() else []
    cache = project.root / ".newsletter" / "cache" / "templates"
    return _cached_environment((*dirs, package_templates()), cache)


def render_template(env: jinja2.Environment, name: str, context: dict[str, Any]) -> str:
    try:
        return env.get_template(name).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"{exc.filename or exc.name}:{exc.lineno}: template syntax error: {exc.message}",
            hint="fix the template, or delete it to use the default one",
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f"template not found: {exc.name}",
            hint="restore it, or delete the project's copy to use the default one",
        ) from exc
    except jinja2.UndefinedError as exc:
        where = template_line(exc) or name
        raise RenderError(f"{where}: {exc.message}", hint="check the variable names") from exc
    except jinja2.TemplateError as exc:
        where = template_line(exc) or name
        raise RenderError(f"{where}: template error: {exc}") from exc
    except (TypeError, ValueError, AttributeError, KeyError, IndexError, ArithmeticError) as exc:
        # A custom template doing something impossible (a filter on the wrong value...).
        where = template_line(exc) or name
        raise RenderError(f"{where}: {type(exc).__name__}: {exc}") from exc


def template_line(exc: BaseException) -> str | None:
    """The innermost template frame of a Jinja runtime error, as "file:line"."""
    found = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename.endswith(".j2") or "<template>" in code.co_filename:
            found = f"{display_path(code.co_filename)}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found


def display_path(filename: str) -> str:
    """A template's path relative to the current folder when it is inside it."""
    path = Path(filename)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return filename
