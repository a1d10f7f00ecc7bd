"""Answer templates: plain text with placeholders (``{{ tracking_code }}``, ``{{ agency_name }}``,
dates ...), rendered in Jinja2's sandbox for one case. Only placeholders, a few filters and
``{% if %}`` are allowed: a template cannot loop, call or reach into objects."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from pydantic import AfterValidator, Field, TypeAdapter, ValidationError

from civicpulse.cases.calendar import local_date
from civicpulse.cases.models import AnswerText
from civicpulse.domain import Strict, check_clean_text
from civicpulse.errors import Unprocessable
from civicpulse.taxonomy import Code

Body = Annotated[str, Field(min_length=1, max_length=20_000), AfterValidator(check_clean_text)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_clean_text)]
Language = Literal["vi", "en"]
FILTERS = ("upper", "lower", "capitalize", "title", "trim", "default")
_ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.If,
    nodes.Not,
    nodes.And,
    nodes.Or,
    nodes.Compare,
    nodes.Operand,
    nodes.Filter,
)


class TemplateIn(Strict):
    """An answer template as admins write it (API body, TOML entry)."""

    code: Code = Field(description="A stable name, e.g. 'land-received-vi'.")
    name: Name
    language: Language = "vi"
    agency: Code | None = Field(default=None, description="Only for this agency's cases (none: any).")
    topic: Code | None = Field(default=None, description="Only for cases of this topic (none: any).")
    body: Body = Field(description="The answer, with placeholders such as {{ tracking_code }}.")
    active: bool = True


class TemplateOut(TemplateIn):
    """A stored answer template."""

    id: int
    actor: str
    updated_at: dt.datetime


@dataclass(frozen=True)
class AnswerFacts:
    """What a template may say about a case (the placeholders)."""

    tracking_code: str
    case_id: int
    agency_code: str
    agency_name: str
    topic: str
    topic_name: str
    received_date: str
    accepted_date: str
    due_date: str
    answer_date: str

    @classmethod
    def sample(cls) -> AnswerFacts:
        """Example values, to check a template before it is stored."""
        return cls("CP-0000-0000", 1, "so-xd", "Sở Xây dựng", "traffic", "Giao thông", *["01/01/2026"] * 4)


PLACEHOLDERS = tuple(AnswerFacts.__dataclass_fields__)


def show_date(moment: dt.datetime | None) -> str:
    """A stored time as a Viet Nam calendar day, dd/mm/yyyy (empty when unknown)."""
    return "" if moment is None else local_date(moment).strftime("%d/%m/%Y")


def _environment() -> SandboxedEnvironment:
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    env.filters = {name: env.filters[name] for name in FILTERS}
    env.globals.clear()
    env.tests = {}
    return env


_ENV = _environment()
_ANSWER: TypeAdapter[str] = TypeAdapter(AnswerText)


def _check_nodes(tree: nodes.Template) -> None:
    for node in tree.find_all(nodes.Node):
        if not isinstance(node, _ALLOWED_NODES):
            raise Unprocessable(
                f"templates may hold only placeholders ({', '.join(PLACEHOLDERS)}), the filters "
                f"{', '.join(FILTERS)} and {{% if %}}; {type(node).__name__.lower()} is not allowed"
            )
        if isinstance(node, nodes.Name) and node.name not in PLACEHOLDERS:
            raise Unprocessable(
                f"unknown placeholder {{{{ {node.name} }}}}; known: {', '.join(PLACEHOLDERS)}"
            )


def render(body: str, facts: AnswerFacts) -> str:
    """The answer a template gives for ``facts``; a bad template or an answer the workflow would
    refuse (empty, too long, control characters) is ``Unprocessable``."""
    try:
        _check_nodes(_ENV.parse(body))
        text = _ENV.from_string(body).render(asdict(facts)).strip()
    except TemplateSyntaxError as exc:
        raise Unprocessable(f"the template is not valid (line {exc.lineno}): {exc.message}") from exc
    except (UndefinedError, SecurityError, TypeError, ValueError) as exc:
        raise Unprocessable(f"the template cannot be rendered: {exc}") from exc
    try:
        return _ANSWER.validate_python(text)
    except ValidationError as exc:
        raise Unprocessable(f"the rendered answer is not valid: {exc.errors()[0]['msg']}") from exc


def check_template(template: TemplateIn) -> None:
    """``Unprocessable`` unless the template renders with example values."""
    render(template.body, AnswerFacts.sample())


def parse_templates(text: str, *, source: str = "<string>") -> list[TemplateIn]:
    """Templates of a TOML file (``[[templates]]`` tables), each checked; every problem is named."""
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise Unprocessable(f"{source} is not valid TOML: {exc}") from exc
    rows = raw.get("templates")
    if not isinstance(rows, list) or set(raw) - {"templates"}:
        raise Unprocessable(f"{source}: expected only [[templates]] tables")
    found: list[TemplateIn] = []
    problems: list[str] = []
    for index, row in enumerate(rows):
        try:
            template = TemplateIn.model_validate(row)
            check_template(template)
            found.append(template)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            problems.append(f"templates[{index}]: {detail}")
        except Unprocessable as exc:
            problems.append(f"templates[{index}] ({row.get('code')!r}): {exc}")
    codes = [t.code for t in found]
    problems += [
        f"template {c!r} appears more than once" for c in sorted({c for c in codes if codes.count(c) > 1})
    ]
    if problems:
        raise Unprocessable(
            f"{source} is invalid: {'; '.join(problems[:20])}", details={"problems": problems}
        )
    return found
