"""The citizen's ``/ask`` page: a question answered from the official documents, each sentence quoted
with its document, number, type and article; or the honest "no official document answers this" with
an offer to send the question as feedback. The question goes through the API's own
``answer_and_record`` (stored as a submission of channel ``ask``), under the ``public`` rate limit."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from civicpulse.api.deps import Ctx, OptionalUser
from civicpulse.api.routers.ask import MAX_QUESTION_CHARS, answer_and_record
from civicpulse.domain import check_clean_text
from civicpulse.knowledge.ask import Answer
from civicpulse.knowledge.parsing_metadata import type_label
from civicpulse.store.documents import documents_by_ids, passages_by_ids
from civicpulse.web.csrf import CsrfProtected
from civicpulse.web.i18n import Translator, translator
from civicpulse.web.limits import CitizenRateLimit
from civicpulse.web.render import render

router = APIRouter(include_in_schema=False)

MIN_QUESTION_CHARS = 3


@dataclass(frozen=True)
class Quoted:
    """A cited sentence with what a citizen needs to find it in its document."""

    quote: str
    document_id: int
    passage_id: int
    title: str
    number: str | None
    type: str
    path: str
    url: str | None
    superseded: bool


def question_problem(question: str, t: Translator) -> str | None:
    """Why the question cannot be asked, in the page's language; ``None`` when it can."""
    if len(question) < MIN_QUESTION_CHARS:
        return t("ask.err_empty", min=MIN_QUESTION_CHARS)
    if len(question) > MAX_QUESTION_CHARS:
        return t("ask.err_long", max=MAX_QUESTION_CHARS)
    try:
        check_clean_text(question)
    except ValueError:
        return t("ask.err_control")
    return None


def quoted(session: Session, answer: Answer, lang: str) -> list[Quoted]:
    """The answer's citations with their documents' titles, numbers, types and articles."""
    passages = passages_by_ids(session, (c.passage_id for c in answer.citations))
    documents = documents_by_ids(session, (c.document_id for c in answer.citations))
    found = []
    for citation in answer.citations:
        passage, document = passages.get(citation.passage_id), documents.get(citation.document_id)
        if passage is None or document is None:
            continue
        found.append(
            Quoted(
                quote=citation.quote,
                document_id=document.id,
                passage_id=passage.id,
                title=document.title,
                number=document.number,
                type=type_label(document.doc_type, lang),
                path=passage.path,
                url=document.url,
                superseded=passage.superseded,
            )
        )
    return found


def submit_link(question: str) -> str:
    """The feedback form with the question written in."""
    return "/submit?" + urlencode({"text": question})


def _page(request: Request, context: dict[str, Any], status_code: int = 200) -> Response:
    base = {"question": "", "error": None, "answer": None, "max_chars": MAX_QUESTION_CHARS, "active": "ask"}
    return render(request, "ask.html", base | context, status_code=status_code)


@router.get("/ask")
def ask_form(request: Request) -> Response:
    """The question box."""
    return _page(request, {})


@router.post("/ask", dependencies=[CitizenRateLimit, CsrfProtected])
def ask_question(
    request: Request, ctx: Ctx, user: OptionalUser, question: Annotated[str, Form()] = ""
) -> Response:
    """Answer the question from the official documents, with the passages it quotes."""
    t = translator(request)
    asked = question.strip()
    problem = question_problem(asked, t)
    if problem is not None:
        return _page(request, {"question": question, "error": problem}, status_code=422)
    with ctx.db.read() as session:
        answer = answer_and_record(request, ctx, session, asked, user)
        citations = quoted(session, answer, t.lang)
    context = {
        "question": asked,
        "answer": answer,
        "citations": citations,
        "submit_link": submit_link(asked),
    }
    return _page(request, context)
