"""REST: a citizen's question answered from the official documents, with citations (public,
rate-limited). The question is stored as a submission of channel ``ask``, analysed like any other."""

from __future__ import annotations

import threading
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import AfterValidator, Field
from sqlalchemy.orm import Session

from civicpulse.api.context import AppContext
from civicpulse.api.deps import Ctx, OptionalUser, client_address
from civicpulse.api.ratelimit import Budget
from civicpulse.api.routers.documents import library_of
from civicpulse.domain import Channel, Strict, SubmissionIn, check_clean_text
from civicpulse.identity import Principal
from civicpulse.intake.service import accept
from civicpulse.knowledge.ask import Answer, ask
from civicpulse.llm import ChatClient

router = APIRouter(tags=["answers"])

MAX_QUESTION_CHARS = 1000
_chat_lock = threading.Lock()


async def ask_rate_limit(request: Request, ctx: Ctx) -> None:
    """Count a question against the caller's address (the ``public`` budget)."""
    ctx.limits.check(Budget.public, client_address(request))


def _worded(value: str) -> str:
    if len(value.strip()) < 3:
        raise ValueError("write a question of at least 3 characters")
    return value.strip()


class QuestionIn(Strict):
    """A citizen's question."""

    question: Annotated[
        str,
        Field(max_length=MAX_QUESTION_CHARS),
        AfterValidator(check_clean_text),
        AfterValidator(_worded),
    ]


class CitationOut(Strict):
    """A quoted piece of an official document: ``text[start:end]`` of document ``document_id``."""

    document_id: int
    passage_id: int
    quote: str
    start: int
    end: int


class AnswerOut(Strict):
    """The answer (``null`` when no official document answers it) and its citations."""

    answer: str | None
    abstained: bool
    citations: list[CitationOut]


def chat_of(ctx: AppContext, state: Any) -> ChatClient | None:
    """The configured chat model, made once per app; ``None`` when not configured."""
    with _chat_lock:
        if not hasattr(state, "chat"):
            state.chat = ChatClient.from_settings(ctx.settings)
        return state.chat


def answer_and_record(
    request: Request, ctx: AppContext, session: Session, question: str, user: Principal | None
) -> Answer:
    """Answer a question and store it as a submission of channel ``ask`` (one audited intake call)."""
    answer = ask(session, library_of(ctx, request.app.state), question, chat=chat_of(ctx, request.app.state))
    item = SubmissionIn(text=question, channel=Channel.ask)
    actor = user.email if user is not None else "citizen"
    accept(ctx.db, ctx.cipher, [item], actor=actor, client=client_address(request), action="ask.question")
    request.state.audited = True
    return answer


@router.post("/api/v1/answers", response_model=AnswerOut, dependencies=[Depends(ask_rate_limit)])
def ask_question(body: QuestionIn, request: Request, ctx: Ctx, user: OptionalUser) -> AnswerOut:
    """Answer from the official documents: the sentences that answer the question, verbatim, each
    citing its document, passage and offsets; or ``answer: null, abstained: true``."""
    with ctx.db.read() as session:
        answer = answer_and_record(request, ctx, session, body.question, user)
    citations = [CitationOut(**vars(c)) for c in answer.citations]
    return AnswerOut(answer=answer.answer, abstained=answer.abstained, citations=citations)
