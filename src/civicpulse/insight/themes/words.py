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
đây_là kia vài nhau lần phường xã tỉnh thành_phố quận huyện thị_xã thị_trấn tp
"""
STOP_WORDS = frozenset(_STOP_TEXT.split()) | ENGLISH_STOP_WORDS  # English texts come in too

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)
_MASK = re.compile(r"(^|[_/ ])x{2,}($|[_/ ])")  # CFPB's own masks: XX, XX/XX/XXXX


def content_words(text: str) -> list[str]:
    """Lower-cased word segments of ``text`` without punctuation, numbers, stop-words or masks."""
    words = []
    for token in segment(without_placeholders(text)):
        word = token.lower()
        if len(word) < 2 or not _LETTER.search(word) or _MASK.search(word) or word in STOP_WORDS:
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
