"""Official documents as text: PDF (pypdf), DOCX (python-docx), HTML (selectolax) and plain text.

Each reader gives the text that is stored (passages' offsets point into it), the headings its format
marks (HTML ``h1``-``h4``, DOCX heading styles) and the title the file names, if any."""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import PurePath

from civicpulse.errors import CivicPulseError, Unprocessable, UnsupportedMediaType

FORMATS = ("pdf", "docx", "html", "txt")
EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".txt": "txt",
    ".text": "txt",
    ".md": "txt",
}
MIN_TEXT_CHARS = 20
_SPACES = re.compile(r"[ \t\u00a0\u200b]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_HTML_SNIFF = re.compile(rb"^\s*(<!doctype html|<html|<head|<body)", re.IGNORECASE)
_HEADING_STYLE = re.compile(r"^(?:heading|tiêu đề)\s*(\d)$", re.IGNORECASE)


@dataclass(frozen=True)
class Heading:
    """A heading the file itself marks: ``text[start:end]`` and its level (1 = the top)."""

    start: int
    end: int
    level: int


@dataclass(frozen=True)
class ParsedDocument:
    """A document read from a file: the text to store, its marked headings, its title."""

    text: str
    source_format: str
    title: str | None = None
    headings: tuple[Heading, ...] = field(default_factory=tuple)


class _Builder:
    """Joins blocks (paragraphs, headings) into one text, keeping where each heading lies."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []

    def add(self, block: str, heading_level: int | None = None) -> None:
        block = clean_block(block)
        if not block:
            return
        if self.parts:
            self.parts.append("\n\n")
            self.length += 2
        if heading_level is not None:
            self.headings.append(Heading(self.length, self.length + len(block), heading_level))
        self.parts.append(block)
        self.length += len(block)

    def build(self, source_format: str, title: str | None) -> ParsedDocument:
        return ParsedDocument("".join(self.parts), source_format, title, tuple(self.headings))


def clean_block(text: str) -> str:
    """NFC, one space between words, no blank runs longer than one empty line, stripped lines."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def detect_format(data: bytes, filename: str | None = None, content_type: str | None = None) -> str:
    """The format of a file from its first bytes, then its name or declared type; 415 when none fits."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        if _is_docx(data):
            return "docx"
        raise UnsupportedMediaType("the file is a ZIP archive but not a Word document (DOCX)")
    suffix = PurePath(filename or "").suffix.lower()
    declared = (content_type or "").split(";")[0].strip().lower()
    if suffix in {".pdf", ".docx"} or declared in {"application/pdf"}:
        raise Unprocessable(f"the file is named {suffix or declared} but its content is not that format")
    if _HTML_SNIFF.match(data[:512]) or suffix in {".html", ".htm", ".xhtml"} or declared == "text/html":
        return "html"
    if suffix in EXTENSIONS or declared.startswith("text/") or not suffix:
        if b"\x00" in data[:4096]:
            raise UnsupportedMediaType("the file is binary; send PDF, DOCX, HTML or plain text")
        return "txt"
    raise UnsupportedMediaType(f"files of type {suffix} are not read; send PDF, DOCX, HTML or plain text")


def _is_docx(data: bytes) -> bool:
    try:
        with _damaged("the zip archive"), zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except Unprocessable:
        return False


@contextmanager
def _damaged(what: str) -> Iterator[None]:
    """``Unprocessable`` for whatever a format library raises on a damaged file.

    pypdf, python-docx and zipfile fail on damaged bytes with nearly any exception type
    (KeyError, AttributeError, AssertionError, NotImplementedError, zlib.error ...), so the
    reading of the file is wrapped, and what is built from it happens outside; our own errors
    pass through."""
    try:
        yield
    except CivicPulseError:
        raise
    except Exception as exc:
        raise Unprocessable(f"{what} cannot be read, it is damaged ({type(exc).__name__}: {exc})") from exc


def parse(data: bytes, filename: str | None = None, content_type: str | None = None) -> ParsedDocument:
    """Read a document of any supported format; a clear 415 or 422 when it cannot be read."""
    if not data:
        raise Unprocessable("the file is empty")
    source_format = detect_format(data, filename, content_type)
    reader = {"pdf": parse_pdf, "docx": parse_docx, "html": parse_html, "txt": parse_text}[source_format]
    parsed = reader(data)
    if len(parsed.text.strip()) < MIN_TEXT_CHARS:
        raise Unprocessable(f"the {source_format.upper()} file holds no text to index")
    return parsed


def parse_text(data: bytes) -> ParsedDocument:
    """Plain UTF-8 text (a byte-order mark is dropped)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unprocessable(f"the text file is not UTF-8 (byte {exc.start} is not)") from exc
    cleaned = clean_block(text)
    return ParsedDocument(cleaned, "txt", text_title(cleaned))


def text_title(text: str) -> str | None:
    """A plain text's title: the first of its opening lines written in sentence case (an official
    letterhead in capitals comes before it), else its first line."""
    lines = [line for line in text.split("\n")[:8] if line.strip()]
    worded = [line for line in lines if any(char.islower() for char in line)]
    title = (worded or lines or [""])[0]
    return title[:500] or None


def parse_pdf(data: bytes) -> ParsedDocument:
    """A PDF's text layer, page after page; a scan without one is refused, never stored empty."""
    from pypdf import PdfReader

    with _damaged("the PDF"):
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise Unprocessable("the PDF is encrypted with a password")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = (reader.metadata.title if reader.metadata else None) or None
    builder = _Builder()
    for page in pages:
        builder.add(page)
    parsed = builder.build("pdf", clean_block(str(title))[:500] if title else None)
    if len(parsed.text.strip()) < MIN_TEXT_CHARS:
        raise Unprocessable(
            f"the PDF has no text layer ({len(pages)} page(s) of images, e.g. a scan); "
            "run OCR on it first or send the document as DOCX, HTML or text"
        )
    return parsed


def parse_docx(data: bytes) -> ParsedDocument:
    """A Word document's paragraphs and tables in order; heading styles become headings."""
    import docx

    blocks: list[tuple[str, str | None]] = []  # (text, paragraph style; None for a table row)
    with _damaged("the DOCX file"):
        document = docx.Document(io.BytesIO(data))
        for kind, item in _docx_blocks(document):
            if kind == "table":
                for row in item.rows:
                    blocks.append((" | ".join(dict.fromkeys(cell.text.strip() for cell in row.cells)), None))
                continue
            blocks.append((item.text, (item.style.name if item.style is not None else "") or ""))
        title = document.core_properties.title or None
    builder = _Builder()
    for text, style in blocks:
        builder.add(text, None if style is None else _docx_heading_level(style))
    return builder.build("docx", clean_block(title)[:500] if title else None)


def _docx_heading_level(style: str) -> int | None:
    if style.lower() == "title":
        return 1
    found = _HEADING_STYLE.match(style.strip())
    return min(int(found.group(1)), 4) if found else None


def _docx_blocks(document: object) -> Iterator[tuple[str, object]]:
    """Paragraphs and tables of the body, in document order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    body = document.element.body  # type: ignore[attr-defined]
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            yield "paragraph", Paragraph(child, document)  # type: ignore[arg-type]
        elif tag == "tbl":
            yield "table", Table(child, document)  # type: ignore[arg-type]


_HTML_SKIP = {"script", "style", "noscript", "template", "nav", "header", "footer", "aside", "form", "svg"}
_HTML_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 4, "h6": 4}
_HTML_BLOCKS = {"p", "li", "pre", "blockquote", "dt", "dd", "td", "th", "caption", "figcaption", "address"}
_HTML_BREAKS = {"div", "section", "article", "main", "ul", "ol", "dl", "table", "tr", "tbody", "br", "hr"}


def parse_html(data: bytes) -> ParsedDocument:
    """An HTML page's readable text: headings and blocks in order, without scripts or navigation."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(data.decode("utf-8", errors="replace") if _declared_utf8(data) else data)
    title_node = tree.css_first("title")
    title = clean_block(title_node.text()) if title_node is not None else None
    builder = _Builder()
    root = tree.body or tree.root
    if root is not None:
        pending: list[str] = []
        _walk_html(root, builder, pending)
        builder.add(" ".join(pending))
    return builder.build("html", title[:500] if title else None)


def _declared_utf8(data: bytes) -> bool:
    head = data[:2048].lower()
    return b"charset" not in head or b"utf-8" in head or b"utf8" in head


def _walk_html(node: object, builder: _Builder, pending: list[str]) -> None:
    child = node.child  # type: ignore[attr-defined]
    while child is not None:
        tag = child.tag
        if tag == "-text":
            pending.append(child.text_content or "")
        elif tag in _HTML_SKIP or tag.startswith("-"):
            pass
        elif tag in _HTML_HEADINGS or tag in _HTML_BLOCKS:
            builder.add(" ".join(pending))
            pending.clear()
            level = _HTML_HEADINGS.get(tag)
            builder.add(child.text(deep=True, separator=" "), level)
        else:
            if tag in _HTML_BREAKS:
                builder.add(" ".join(pending))
                pending.clear()
            _walk_html(child, builder, pending)
        child = child.next
