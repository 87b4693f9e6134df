"""A synthetic news corpus for the scale bench, and the cheap stand-in for its embeddings.

Texts: the real sentences of the two articles in sources/ (French) plus article-like English
sentences on the same topics, recombined into synthetic articles with varied entities (companies,
people, investors, newspapers) and varied numbers, so no two chunks have the same text. Each article
is cut into chunks by the engine's own chunker (index.chunking, ~60-word windows).

Embeddings: embedding 100k passages with e5 on this machine would take ~2 h, so
- every template sentence is rendered in a few variants (different entities and numbers) and those
  few hundred *base* sentences get real e5 passage embeddings (cached under bench/.cache/);
- a chunk's vector is the normalised mean of the base vectors of the sentences it is made of, plus
  Gaussian noise (cosine ~0.92 to the clean mean), normalised again.
Vectors therefore keep e5's geometry (topics cluster, the same anisotropy) without two being equal.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / "bench" / ".cache"

NOISE_SIGMA = 0.022  # per dimension; |noise| ~ 0.43 in 384-d -> cosine ~0.92 with the clean vector
BASE_VARIANTS = 3  # renderings of each template sentence that get a real e5 embedding

ENGLISH = [
    "According to the Financial Times, xAI has raised nearly 6 billion dollars in new funding from Sequoia Capital and Andreessen Horowitz.",
    "The new round values xAI at about 18 billion dollars, a figure that surprised many analysts.",
    "Elon Musk told investors that xAI could catch up with OpenAI, Anthropic and Google thanks to its ties with his other companies.",
    "Meta chief executive Mark Zuckerberg said the company would spend an extra 5 billion dollars on AI in 2024.",
    "That comes on top of the 35 billion dollars Meta had already set aside for AI and virtual reality.",
    "Meta reportedly runs about 500,000 GPUs and aims to reach one million in the near future.",
    "OpenAI and its partner Microsoft say they want to put around 10 million GPUs into production.",
    "xAI is believed to operate about 30,000 H100 GPUs, while Tesla has some 300,000 more in service.",
    "Bloomberg reports that xAI is losing about 1 billion dollars every month.",
    "Documents sent to investors show that xAI could lose 13 billion dollars by 2025.",
    "To stay afloat, xAI is closing a 9.3 billion dollar funding round, which may barely cover its costs.",
    "More than half of that money could be spent within the next three months.",
    "This year the company expects only 500 million dollars in revenue.",
    "Advertising revenue at X is still down about 50 percent from the levels before Elon Musk took over.",
    "Fewer than 1 percent of X users currently pay for X Premium, which limits the reach of Grok.",
    "Building large language models keeps getting more expensive as chips, data deals and safety rules add up.",
    "Nvidia's H100 chips have become so sought after that even Silicon Valley struggles to get its orders filled.",
    "The company says it builds most of its own infrastructure instead of renting computing power.",
    "It also plans to train its models on the constantly renewed data of the X social network at no extra cost.",
    "Analysts warn that burning cash at this pace is a major risk that depends on the confidence of the markets.",
    "The startup hopes its chatbot Grok will become more accurate and more popular with paying subscribers.",
    "Venture capital firms seem too afraid of missing out to pass on a deal led by Elon Musk.",
    "Google has also signed new partnerships with Nvidia on its latest GPU models.",
    "Competing with ChatGPT or Gemini requires billions of dollars in chips and data centers.",
    "Lightspeed Venture Partners and Tribe Capital also took part in the round, the newspaper said.",
    "The stakes for being competitive in AI now amount to at least several billion dollars a year, Musk said.",
    "Without significant new spending it is hard to see how xAI can rival the three biggest players.",
    "The fates of xAI and X are linked, and the new money appears to be meant for the X project.",
    "The deal comes as the company seeks the financial firepower it needs to catch up with the market leaders.",
    "Investors are betting that the startup's links with Tesla could provide technology, data and early revenue.",
    "Data centers that house thousands of chips account for a large share of the sector's spending.",
    "The company hopes to close the gap with OpenAI, which already generates billions in revenue.",
]

COMPANIES = ["xAI", "OpenAI", "Anthropic", "Google", "Meta", "Microsoft", "Tesla", "Nvidia", "Apple", "Amazon"]
NEW_COMPANIES = [
    "Mistral AI", "Cohere", "Aleph Alpha", "Hugging Face", "Stability AI", "Inflection", "Databricks", "Scale AI",
    "Perplexity", "Character.AI", "Adept", "Runway", "Samsung", "IBM", "Oracle", "Baidu", "Alibaba", "Tencent",
    "ByteDance", "Kyutai", "LightOn", "Poolside", "Photoroom", "Dataiku", "Criteo", "Doctolib", "Synthesia",
    "DeepL", "Helsing", "Graphcore", "Cerebras", "SambaNova", "Groq", "Lambda", "CoreWeave", "Snowflake",
    "Salesforce", "SAP", "Ubisoft", "Orange", "Capgemini", "Atos", "OVHcloud", "Scaleway", "Qonto", "Alan",
    "Pennylane", "Sorare", "BlaBlaCar", "Deezer", "Spotify", "Klarna", "Revolut", "Zalando", "Siemens", "Bosch",
]
PEOPLE = ["Elon Musk", "Mark Zuckerberg", "Elon", "Musk", "Zuckerberg"]
NEW_PEOPLE = [
    "Arthur Mensch", "Aidan Gomez", "Clément Delangue", "Jensen Huang", "Sam Altman", "Dario Amodei",
    "Sundar Pichai", "Satya Nadella", "Lisa Su", "Xavier Niel", "Julien Chaumond", "Thomas Wolf",
    "Mustafa Suleyman", "Demis Hassabis", "Marie Dupont", "Sophie Martin", "Jean Moreau", "Claire Bernard",
    "Luc Petit", "Nadia Haddad", "Paul Laurent", "Emma Roux", "Hugo Fontaine", "Léa Garnier",
]
INVESTORS = ["Lightspeed Venture Partners", "Andreessen Horowitz", "Sequoia Capital", "Tribe Capital"]
NEW_INVESTORS = [
    "Accel", "Index Ventures", "General Catalyst", "Kleiner Perkins", "Benchmark", "Greylock", "Insight Partners",
    "Tiger Global", "SoftBank", "Bpifrance", "Eurazeo", "Partech", "Balderton", "Northzone", "Atomico",
    "Lakestar", "Creandum", "Elaia", "Breega", "Frst",
]
MEDIA = ["Financial Times", "Bloomberg"]
NEW_MEDIA = ["Reuters", "Les Echos", "Le Monde", "The Information", "TechCrunch", "The Verge", "Le Figaro",
             "Wall Street Journal", "The Economist", "L'Usine Nouvelle", "Challenges", "BFM Business"]
PRODUCTS = ["Grok", "X Premium", "ChatGPT", "Gemini"]
NEW_PRODUCTS = ["Le Chat", "Claude", "Command R", "Pi", "Copilot", "Llama", "Qwen", "Ernie", "Moshi", "Falcon"]

_NUMBER = re.compile(r"\d+(?:[ \u00a0\u202f,.]\d+)*")


def _replacement_pattern() -> re.Pattern[str]:
    names = sorted(COMPANIES + PEOPLE + INVESTORS + MEDIA + PRODUCTS, key=len, reverse=True)
    return re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)")


_NAMES = _replacement_pattern()
_POOLS = [(set(COMPANIES), NEW_COMPANIES), (set(PEOPLE), NEW_PEOPLE), (set(INVESTORS), NEW_INVESTORS),
          (set(MEDIA), NEW_MEDIA), (set(PRODUCTS), NEW_PRODUCTS)]


@dataclass(frozen=True)
class Template:
    index: int
    language: str
    text: str


def templates(limit: int | None = None) -> list[Template]:
    """The real sentences of the articles (6+ words) and the English ones, in a fixed order."""
    from index.chunking import split_sentences
    from index.loaders import load_source

    out: list[str] = []
    for path in sorted((ROOT / "sources").glob("*.txt")):
        doc = load_source(path)
        out.extend(s.text for s in split_sentences(doc.text) if len(s.text.split()) >= 6)
    fr = [Template(i, "fr", t) for i, t in enumerate(out)]
    en = [Template(len(fr) + i, "en", t) for i, t in enumerate(ENGLISH)]
    # Interleave so that a short `limit` (the --quick bench) still has both languages.
    mixed: list[Template] = []
    for i in range(max(len(fr), len(en))):
        mixed.extend(x[i] for x in (fr, en) if i < len(x))
    mixed = mixed[:limit] if limit else mixed
    return sorted(mixed, key=lambda t: t.index)


def _number_like(rng: np.random.Generator, original: str) -> str:
    digits = re.sub(r"\D", "", original)
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        return str(int(rng.integers(2015, 2031)))
    decimal = re.search(r"[,.](\d+)$", original)
    if decimal and len(decimal.group(1)) < 3:  # "9,3" / "9.3": a decimal, not a thousands separator
        sep = original[decimal.start()]
        return f"{int(rng.integers(1, 100))}{sep}{int(rng.integers(1, 10))}"
    value = int(rng.integers(1, 10 ** max(1, min(len(digits), 7))))
    if value >= 10000 and re.search(r"[ \u00a0\u202f]", original):
        return f"{value:,}".replace(",", "\u00a0" if "\u00a0" in original else " ")
    if value >= 10000 and "," in original:
        return f"{value:,}"
    return str(value)


def render(template: Template, rng: np.random.Generator, mapping: dict[str, str] | None = None) -> str:
    """The template with its entities swapped (through `mapping` when given, else at random) and its
    numbers redrawn."""
    mapping = {} if mapping is None else mapping

    def swap(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in mapping:
            pool = next(new for old, new in _POOLS if name in old)
            mapping[name] = pool[int(rng.integers(len(pool)))] if rng.random() < 0.85 else name
        return mapping[name]

    text = _NAMES.sub(swap, template.text)
    return _NUMBER.sub(lambda m: _number_like(rng, m.group()), text)


# ---------------------------------------------------------------- base embeddings (real e5, cached)

def _key(kind: str, text: str) -> str:
    return hashlib.sha1(f"{kind}\x00{text}".encode()).hexdigest()


class VectorCache:
    """Real e5 vectors by (kind, text), stored in one .npz under bench/.cache/ (gitignored)."""

    def __init__(self, identity: str, cache_dir: Path = CACHE_DIR) -> None:
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", identity)
        self.path = Path(cache_dir) / f"e5-{safe}.npz"
        self.vectors: dict[str, np.ndarray] = {}
        if self.path.exists():
            try:
                with np.load(self.path) as data:
                    self.vectors = dict(zip(data["keys"].tolist(), data["vectors"]))
            except (OSError, ValueError, KeyError):
                self.vectors = {}
        self.computed = 0

    def get(self, embedder, kind: str, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if _key(kind, t) not in self.vectors]
        if missing:
            vecs = embedder.encode_queries(missing) if kind == "query" else embedder.encode_passages(missing)
            self.vectors.update({_key(kind, t): np.asarray(v, np.float32) for t, v in zip(missing, vecs)})
            self.computed += len(missing)
            self.save()
        return np.stack([self.vectors[_key(kind, t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = list(self.vectors)
        tmp = self.path.with_name(self.path.stem + ".tmp.npz")
        np.savez(tmp, keys=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        tmp.replace(self.path)


def base_sentences(tpls: list[Template], variants: int = BASE_VARIANTS, seed: int = 7) -> list[list[str]]:
    """For each template, `variants` renderings (the first is the real sentence itself)."""
    rng = np.random.default_rng(seed)
    return [[t.text] + [render(t, rng) for _ in range(variants - 1)] for t in tpls]


def base_vectors(embedder, cache: VectorCache, tpls: list[Template], variants: int = BASE_VARIANTS) -> np.ndarray:
    """Array (templates, variants, dim) of real e5 passage embeddings."""
    sents = base_sentences(tpls, variants)
    flat = [s for group in sents for s in group]
    vecs = cache.get(embedder, "passage", flat)
    return vecs.reshape(len(tpls), variants, -1)


# ---------------------------------------------------------------- synthetic articles

@dataclass
class SyntheticArticle:
    source_id: str
    language: str
    text: str
    title: str
    sentence_keys: list[tuple[int, int]]  # (template index in tpls, variant) of each sentence, in order
    sentence_starts: list[int]  # where each of those sentences starts in text


def articles(tpls: list[Template], seed: int = 1):
    """An endless stream of synthetic articles (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    by_lang = {lang: [i for i, t in enumerate(tpls) if t.language == lang] for lang in ("fr", "en")}
    by_lang = {k: v for k, v in by_lang.items() if v}
    langs = sorted(by_lang)
    n = 0
    while True:
        lang = "fr" if "fr" in by_lang and (len(langs) == 1 or rng.random() < 0.6) else langs[-1]
        pool = by_lang[lang]
        mapping: dict[str, str] = {}  # one story: the same swapped names throughout the article
        count = int(rng.integers(20, 46))
        picks = rng.choice(pool, size=count, replace=count > len(pool))
        sentences, keys = [], []
        for i in picks:
            sentences.append(render(tpls[int(i)], rng, mapping if rng.random() < 0.8 else None))
            keys.append((int(i), int(rng.integers(BASE_VARIANTS))))
        parts, starts, pos, in_paragraph = [], [], 0, 0
        for s in sentences:
            starts.append(pos)
            in_paragraph += 1
            sep = "\n" if in_paragraph >= int(rng.integers(2, 6)) else " "
            in_paragraph = 0 if sep == "\n" else in_paragraph
            parts.append(s + sep)
            pos += len(s) + 1
        text = "".join(parts)
        subject = mapping.get("xAI", "xAI")
        yield SyntheticArticle(f"synthetic-{n:06d}.txt", lang, text, f"{subject}: article {n}", keys, starts)
        n += 1


def chunk_vectors(article: SyntheticArticle, chunks, base: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Stand-in chunk embeddings: mean of the base vectors of the chunk's sentences, plus noise."""
    starts = np.asarray(article.sentence_starts)
    keys = article.sentence_keys
    out = np.empty((len(chunks), base.shape[-1]), np.float32)
    for row, chunk in enumerate(chunks):
        # The generated sentences overlapping the chunk (the chunker may cut them differently).
        first = max(0, int(np.searchsorted(starts, chunk.start, side="right")) - 1)
        last = max(first, int(np.searchsorted(starts, chunk.end, side="left")) - 1)
        picked = [keys[i] for i in range(first, last + 1)]
        v = np.mean([base[t, var % base.shape[1]] for t, var in picked], axis=0)
        v /= np.linalg.norm(v)
        v = v + rng.normal(0.0, NOISE_SIGMA, v.shape)
        out[row] = v / np.linalg.norm(v)
    return out
