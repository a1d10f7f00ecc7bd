"""Words of a theme: Vietnamese word segments, stop-words, class-based TF-IDF keywords, labels.

c-TF-IDF (as in BERTopic): the members of a theme form one document; a word's weight in a theme is
its frequency there times ``log(1 + mean words per theme / its frequency over all themes)``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from civicpulse.textkit.placeholders import without_placeholders
from civicpulse.textkit.segment import segment

# Function words, pronouns, fillers and words every submission uses ("xin", "ý kiến"): they say
# nothing about what a theme is about. Written for this project, segmented forms with "_".
_STOP_TEXT = """
à ạ ai ái anh ấy bà bao_giờ bạn bác bằng bị bởi bên các cả cái cần cháu chị chiếc cho cho_biết chỉ
chính chúng_tôi chúng_ta chú chưa chứ có có_thể có_lẽ còn cô của cùng cũng cứ dù đã đang đây đấy để
đến đều điều đó đi được đồng_thời gì giờ hay hãy hơn hết họ hoặc khi khác không không_có là lại lên
lúc luôn mà mình mỗi một mới muốn nay này nào nên nếu nếu_như ngay ngày người nhiều nhưng những nơi
nữa nữa_là ở ông phải qua quá ra rằng rất rồi sau sẽ sự tại tất_cả tôi trên trong từ từng tới thì
thế theo thêm thật thấy thường trước vào vẫn vì việc với vừa và về xin xin_cảm_ơn cảm_ơn ý_kiến
kính_gửi kính_đề_nghị đề_nghị mong mong_muốn vấn_đề hiện_nay hiện hiện_tại năm tháng tuần hôm
hôm_nay nhà_nước bị_ảnh_hưởng như như_vậy vậy do đó_là ta em anh_chị các_bạn thì_là cũng_như
trong_khi sau_khi trước_khi cho_đến đến_nay tuy tuy_nhiên nhưng_mà song ngoài ngoài_ra bên_cạnh
thậm_chí chỉ_là ít nhất gần khoảng nhiều_người mọi bài báo bài_báo tin cách làm nói biết thấy_rằng
đây_là kia vài nhau lần phường xã tỉnh thành_phố quận huyện thị_xã thị_trấn tp kính
"""
# the commonest of them typed without marks ("toi da" for "tôi đã"); only those whose unmarked form
# is not itself a content word ("vậy" would take "vay", a loan, with it)
_UNMARKED_TEXT = """
toi da la cua khong duoc nhung cac mot nay ve voi thi ma nen cung rat se dang bi chung_toi chua hay
hoac neu vi tai tu den de moi nguoi
"""
_UNMARKED = frozenset(_UNMARKED_TEXT.split())
STOP_WORDS = frozenset(_STOP_TEXT.split()) | _UNMARKED | ENGLISH_STOP_WORDS  # English texts come in too

# A word: letters only, its syllables joined by "_"; segments such as "of_$" or "xx." are fragments
_WORD = re.compile(r"[^\W\d_]+(?:_[^\W\d_]+)*", re.UNICODE)
_MASK = re.compile(r"(^|_)x{2,}($|_)")  # CFPB's own masks: XX, XXXX
PHRASE_WORDS = 4  # the longest label, in word segments
PHRASE_SYLLABLES = 6  # and in syllables
PHRASE_SAMPLE = 30  # members nearest the centroid whose words labels are drawn from


def is_word(token: str) -> bool:
    """Whether a segment is a whole word (letters, syllables joined by "_"), not a fragment or mask."""
    return _WORD.fullmatch(token) is not None and not _MASK.search(token.lower())


def _words_of(token: str) -> list[str]:
    """A segment as words: one whose first or last syllable is a stop word ("a_loan", "xin_hoi":
    the segmenter joins English and unmarked words it does not know) is split into syllables."""
    parts = token.split("_")
    if len(parts) > 1 and (parts[0].lower() in STOP_WORDS or parts[-1].lower() in STOP_WORDS):
        return parts
    return [token]


def content_words(text: str) -> list[str]:
    """Lower-cased word segments of ``text`` without punctuation, numbers, stop-words or masks."""
    words = []
    for token in segment(without_placeholders(text)):
        for word in _words_of(token.lower()):
            if len(word) < 2 or not is_word(word) or word in STOP_WORDS:
                continue
            words.append(word)
    return words


def ctfidf(
    docs_by_theme: dict[int, Sequence[Sequence[str]]],
    weights_by_theme: dict[int, Sequence[float]] | None = None,
) -> dict[int, list[tuple[str, float]]]:
    """Theme -> words with their c-TF-IDF weight, best first (ties by the word, for determinism)."""
    counts: dict[int, Counter[str]] = {}
    for theme, docs in docs_by_theme.items():
        weights = weights_by_theme.get(theme) if weights_by_theme else None
        counter: Counter[str] = Counter()
        for i, words in enumerate(docs):
            w = 1.0 if weights is None else float(weights[i])
            for word in set(words):
                counter[word] += w
        counts[theme] = counter
    total: Counter[str] = Counter()
    for counter in counts.values():
        total.update(counter)
    if not total:
        return {theme: [] for theme in docs_by_theme}
    average = sum(total.values()) / max(len(counts), 1)
    ranked: dict[int, list[tuple[str, float]]] = {}
    for theme, counter in counts.items():
        size = max(sum(counter.values()), 1e-9)
        scored = [
            (word, (n / size) * math.log(1 + average / total[word])) for word, n in counter.items() if n >= 1
        ]
        ranked[theme] = sorted(scored, key=lambda item: (-item[1], item[0]))
    return ranked


def label_of(keywords: Sequence[str], parts: int = 3) -> str:
    """A short label: the top keywords, each shown with spaces, joined by ' · '."""
    shown: list[str] = []
    for word in keywords:
        text = word.replace("_", " ")
        if any(text in other or other in text for other in shown):
            continue
        shown.append(text)
        if len(shown) == parts:
            break
    return " · ".join(shown) if shown else "(không rõ)"


def _runs(text: str) -> list[list[str]]:
    """Runs of whole words of ``text`` (punctuation, numbers and placeholders break a run)."""
    runs: list[list[str]] = [[]]
    for token in segment(without_placeholders(text)):
        if is_word(token):
            runs[-1].extend(_words_of(token))
        elif runs[-1]:
            runs.append([])
    return [run for run in runs if run]


def _surface(text: str, words: Sequence[str]) -> str | None:
    """The words as they are written in ``text`` (case and spacing kept), if they are there."""
    pattern = r"\s+".join(re.escape(syllable) for word in words for syllable in word.split("_"))
    found = re.search(pattern, text, re.IGNORECASE)
    return found.group(0) if found else None


def phrase_label(texts: Sequence[str], weights: dict[str, float]) -> str | None:
    """The members' own phrase that best names a theme: the run of 1-4 words (starting and ending
    on a content word, at least two syllables) with the most keyword weight times the share of
    ``texts`` (nearest the centroid first) that use it; verbatim from the first text that has it."""
    found: dict[tuple[str, ...], set[int]] = {}
    for i, text in enumerate(texts):
        for run in _runs(text):
            lowered = [word.lower() for word in run]
            for start in range(len(run)):
                if lowered[start] not in weights:
                    continue
                for end in range(start + 1, min(start + PHRASE_WORDS, len(run)) + 1):
                    last = lowered[end - 1]
                    if last in STOP_WORDS or len(last) < 2:
                        continue
                    found.setdefault(tuple(lowered[start:end]), set()).add(i)
    best: tuple[float, int, tuple[str, ...]] | None = None
    for gram, users in found.items():
        if sum(word.count("_") + 1 for word in gram) < 2 or len(users) < 2:
            continue
        weight = sum(weights.get(word, 0.0) for word in set(gram))
        key = (weight * len(users), -len(gram), gram)
        if (
            best is None
            or (key[0], key[1]) > (best[0], best[1])
            or ((key[0], key[1]) == (best[0], best[1]) and gram < best[2])
        ):
            best = key
    if best is None:
        return None
    gram = best[2]
    first = min(found[gram])
    return _surface(texts[first], gram)
