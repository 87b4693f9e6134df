"""What a question asks for: the expected kind of answer (money, count, share, duration, year,
names), the counted thing, the named entities it is about, and its focus terms. FR and EN."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.types import Language


def fold(text: str) -> str:
    """Lower-case without accents, typographic apostrophes made plain."""
    text = text.replace("’", "'").lower()
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


# Counted things: question words -> the canonical unit the figures module gives (or a noun).
# Bilingual, so an English question meets a French figure ("GPUs" ~ "GPU", "users" ~ "utilisateurs").
UNIT_SYNONYMS: dict[str, str] = {
    "gpu": "GPU", "gpus": "GPU", "h100": "GPU", "puce": "GPU", "puces": "GPU", "chip": "GPU", "chips": "GPU",
    "processeur": "GPU", "processeurs": "GPU", "processor": "GPU", "processors": "GPU", "card": "GPU", "cards": "GPU",
    "carte": "GPU", "cartes": "GPU", "graphics": "GPU",
    "employe": "employee", "employes": "employee", "employee": "employee", "employees": "employee",
    "salarie": "employee", "salaries": "employee", "staff": "employee", "personnes": "employee", "people": "employee",
    "ingenieur": "employee", "ingenieurs": "employee", "engineers": "employee", "workers": "employee",
    "utilisateur": "user", "utilisateurs": "user", "user": "user", "users": "user", "abonne": "user",
    "abonnes": "user", "subscribers": "user", "subscriber": "user", "clients": "user", "customers": "user",
    "mois": "month", "month": "month", "months": "month", "an": "year", "ans": "year", "annees": "year",
    "years": "year", "year": "year", "semaines": "week", "weeks": "week", "jours": "day", "days": "day",
    "dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR",
    "data": "datacenter", "datacenters": "datacenter", "centres": "datacenter", "centers": "datacenter",
    "investisseurs": "investor", "investors": "investor", "modeles": "model", "models": "model",
}
_DURATION_UNITS = {"month", "year", "week", "day"}

_NAMES = re.compile(
    r"^\s*(qui|who|whom)\b|\b(qui a|qui est|qui sont|who (is|are|was|were|has|have|did|reported|said|invested|leads?|runs?))\b"
    r"|\b(quels?|quelles?|which|what) (sont les |are the |were the )?(investisseurs|investors|soci[eé]t[eé]s|companies|firms|"
    r"entreprises|m[eé]dias?|journal|journaux|newspapers?|outlets?|publications?|fonds|funds|partenaires|partners|"
    r"personnes?|people|persons?|concurrents|competitors|rivals|sources)\b"
    r"|\b(selon qui|d'apr[eè]s qui|according to whom|nomm|name the|names of|noms? de)"
    r"|\b(quel|quelle|quels|quelles) (est|sont) (le |la |les |l')?(partenaires?|pdg|patron|dirigeants?|fondateurs?|"
    r"investisseurs?|m[eé]dias?|journal|source|concurrents?)\b"
    r"|\bwho(se)? (is|are|was) (the |its |their )?(partner|ceo|head|boss|founder|investor|source|rival)",
    re.IGNORECASE,
)
_PERCENT = re.compile(
    r"\b(pourcentage|percentage|percent|proportion|quelle part|what share|share of|what fraction|taux|rate|"
    r"de combien.*(baiss|chut|recul|augment|hauss)|by how much.*(drop|fall|fell|declin|lower|down|rise|grow))"
    r"|%", re.IGNORECASE,
)
_YEAR = re.compile(
    r"^\s*(when|quand)\b|\b(what|which|quelle|en quelle) ann[eé]e|\bwhat year|\bwhich year|\bby when|"
    r"\bd'ici quand|\bà quelle date|\bby what date|\bin what year|\bquelle échéance|\bhorizon",
    re.IGNORECASE,
)
_DURATION = re.compile(
    r"\bhow long\b|\bcombien de temps\b|\bquelle dur[eé]e|\bwithin what time|\bover what period|\bdans quel d[eé]lai|"
    r"\ben combien de (mois|temps|semaines|jours|ann[eé]es)|\bhow many (months|years|weeks|days)\b|"
    r"\bcombien de (mois|semaines|jours|ann[eé]es)\b|\bhow quickly|\bhow fast|\bhow soon|\ben quel d[eé]lai",
    re.IGNORECASE,
)
_COUNT = re.compile(r"\b(?:how many|combien (?:de |d'|d’)|nombre (?:de |d'|d’)|number of|quantit[eé] de)\s*(\w+)(?:\s+(\w+))?",
                    re.IGNORECASE)
_HOW_BIG = re.compile(r"\bhow (big|large|much)\b|\bwhat (size|amount)\b|\bquelle (taille|ampleur)\b|\bquel montant\b", re.I)

# Bilingual concepts of business news: a question and a clause that share one talk about the same
# attribute even across languages ("raise" ~ "levée de fonds", "valued" ~ "évalué"). Folded prefixes.
CONCEPTS: dict[str, tuple[str, ...]] = {
    "raise": ("rais", "fund", "financ", "leve", "levee", "obten", "obtain", "secur", "collect", "recolt", "round",
              "tour de table", "cycle de financement"),
    "valuation": ("valu", "valor", "evalu", "worth", "vaut"),
    "loss": ("loss", "lose", "losing", "lost", "perte", "perd", "burn", "brul", "deficit"),
    "revenue": ("revenu", "chiffre d'affaires", "sales", "vente", "earn", "gagn", "income"),
    "spend": ("spend", "spent", "depens", "debours", "budget", "cost", "cout", "outlay"),
    "reserve": ("set aside", "reserv", "earmark", "already", "deja", "allocat", "allou"),
    "additional": ("additional", "extra", "supplement", "en plus", "further", "more on"),
    "buy": ("buy", "bought", "purchas", "achet", "achat", "acqui", "order", "command"),
    "gpu": ("gpu", "puce", "chip", "h100", "nvidia", "processor"),
    "users": ("user", "utilisat", "subscri", "abonn"),
    "ads": ("advertis", "ad revenue", "ads", "publicit"),
    "target": ("target", "aim", "goal", "vise", "viser", "objectif", "porter ce chiffre", "plan to", "intend"),
    "current": ("in service", "en service", "operat", "exploit", "currently", "actuellement", "desormais", "now", "today"),
    "half": ("half", "moitie"),
    "soon": ("how quickly", "how soon", "how fast", "within", "delai", "a venir", "next", "coming", "absorb", "used up", "consum"),
    "this_year": ("this year", "cette annee", "cette annee-ci", "for the year", "pour l'annee"),
    "decline": ("declin", "drop", "fall", "fell", "down", "baisse", "chute", "recul", "lower", "inferieur"),
}
_CONCEPT_RX = {name: re.compile(r"(?<![\w])(?:" + "|".join(re.escape(p) for p in prefixes) + ")")
               for name, prefixes in CONCEPTS.items()}


def concepts(text: str) -> frozenset[str]:
    folded = fold(text)
    return frozenset(name for name, rx in _CONCEPT_RX.items() if rx.search(folded))
_MONEY = re.compile(
    r"\bhow much\b|\bcombien\b|\bmontant|\bsomme|\bvalor|\bvaluation|\bvalued|\bworth|\brevenue|\brevenus|"
    r"\bchiffre d'affaires|\bsales\b|\bperte|\bperd|\blos[es]|\blost\b|\bfinanc|\bfund|\braise|\blev[ée]|"
    r"\bspend|\bspent|\bd[ée]pens|\bcost|\bco[uû]t|\bburn|\bbr[uû]l|\bcash|\bargent|\bmoney|\bdollars?\b|"
    r"\bbudget|\binvest|\bprice|\bprix|\bvaut\b|\bvalent\b|\bgagn|\bearn|\bprofit|\bb[ée]n[ée]fice",
    re.IGNORECASE,
)
_PER = {
    "month": re.compile(r"\bpar mois\b|\bchaque mois\b|\bmensuel|\bper month\b|\ba month\b|\beach month\b|\bmonthly\b", re.I),
    "year": re.compile(r"\bpar an\b|\bchaque ann[ée]e\b|\bannuel|\bper year\b|\ba year\b|\beach year\b|\bannual|\byearly\b", re.I),
}
_YEAR_IN_TEXT = re.compile(r"\b(19|20)\d{2}\b")

# Words that start a question or are common words, never entities even when capitalised.
_NOT_ENTITIES = frozenset(fold(w) for w in """
how what which who whom whose why when where is are does did do was were the a an and or of in on for to by
according combien quel quelle quels quelles qui que quoi pourquoi comment quand où est-ce et ou le la les un une
des du de d l selon d'après en au aux par pour sur dans avec sans il elle ils elles its it their sa son ses leur
can could would will should has have had may might tell give list name please donne dis cite indique
and also then so but mais donc alors
""".split())

_TOKEN = re.compile(r"[\w][\w'’.-]*[\w]|\w", re.UNICODE)


@dataclass(frozen=True)
class QuestionFrame:
    text: str
    language: Language
    kind: str  # 'money' | 'count' | 'percent' | 'duration' | 'year' | 'names' | 'other'
    unit: str = ""  # counted thing for 'count' (canonical), duration unit for 'duration'
    entities: tuple[str, ...] = ()
    per: str = ""
    years: tuple[str, ...] = ()
    focus: tuple[str, ...] = field(default=())  # folded content words
    concepts: frozenset[str] = field(default=frozenset())


_GENERIC_CAPS = frozenset({"ia", "ai", "llm", "llms", "gpu", "gpus", "h100", "ceo", "pdg", "vr", "rv", "usd", "eur"})


def extract_entities(question: str) -> list[str]:
    """Runs of capitalised tokens (xAI, OpenAI, Mark Zuckerberg, X Premium, Financial Times).
    Domain acronyms (IA, GPU, H100) are subjects, not names, and break a run; so does a possessive."""
    entities: list[str] = []
    run: list[str] = []
    prev_end = -1

    def flush() -> None:
        if run:
            entities.append(" ".join(run))
            run.clear()

    for m in _TOKEN.finditer(question):
        tok = m.group()
        tok = re.sub(r"^(?:[ldjmnstc]|qu)['’]", "", tok, flags=re.I)  # "d'OpenAI", "l'IA"
        possessive = bool(re.search(r"['’]s$", tok))
        tok = re.sub(r"['’]s$", "", tok).strip("'’.-")
        capital = bool(tok) and (tok[0].isupper() or any(c.isupper() for c in tok[1:]) or
                                 (any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok)))
        if capital and fold(tok) not in _NOT_ENTITIES and fold(tok) not in _GENERIC_CAPS and not tok.isdigit():
            if run and question[prev_end:m.start()].strip():
                flush()
            run.append(tok)
            if possessive:
                flush()
        else:
            flush()
        prev_end = m.end()
    flush()
    return entities


def analyse(question: str, language: Language) -> QuestionFrame:
    q = question.strip()
    kind = "other"
    unit = ""
    if _DURATION.search(q):
        kind = "duration"
        m = re.search(r"\b(mois|months?|ann[eé]es|years?|semaines|weeks?|jours|days?)\b", q, re.I)
        unit = UNIT_SYNONYMS.get(fold(m.group(1)), "month") if m else ""
    elif _YEAR.search(q):
        kind = "year"
    elif _PERCENT.search(q):
        kind = "percent"
    elif _NAMES.search(q):
        kind = "names"
    else:
        count = _COUNT.search(q)
        noun, canonical = "", ""
        if count:
            # "how many GPUs", "how many Nvidia GPUs": the first word that names a known unit, else the first.
            words = [fold(w) for w in count.groups() if w]
            known = [w for w in words if UNIT_SYNONYMS.get(w) or UNIT_SYNONYMS.get(w.rstrip("s"))]
            noun = known[0] if known else words[0]
            canonical = UNIT_SYNONYMS.get(noun, UNIT_SYNONYMS.get(noun.rstrip("s"), ""))
        if count and canonical in ("USD", "EUR"):
            kind = "money"
        elif count and canonical in _DURATION_UNITS:
            kind, unit = "duration", canonical
        elif count and noun not in ("argent", "money", "fois", "times", "temps", "time", "plus", "more", "moins", "less"):
            kind, unit = "count", canonical or noun.rstrip("s")
        elif _MONEY.search(q) and (not _HOW_BIG.search(q) or concepts(q) & {"raise", "valuation", "loss", "revenue", "spend", "reserve"} or re.search(r"how much|combien", q, re.I)):
            kind = "money"
        else:
            # "What is Meta's GPU target?": a counted thing named without "how many".
            nouns = [UNIT_SYNONYMS.get(fold(w)) for w in re.findall(r"\w+", q)]
            unit_named = next((n for n in nouns if n and n not in ("USD", "EUR", *_DURATION_UNITS)), "")
            if unit_named:
                kind, unit = "count", unit_named
    per = next((p for p, rx in _PER.items() if rx.search(q)), "")
    words = [fold(w) for w in re.findall(r"\w+", q)]
    focus = tuple(w for w in words if len(w) > 2 and w not in _NOT_ENTITIES)
    return QuestionFrame(q, language, kind, unit, tuple(extract_entities(q)), per,
                         tuple(m.group() for m in _YEAR_IN_TEXT.finditer(q)), focus, concepts(q))


def mentions(text: str, entity: str) -> list[int]:
    """Offsets where an entity is named in text (whole words; 'qu'OpenAI' counts)."""
    pattern = r"(?<![\w])" + r"\s+".join(re.escape(part) for part in entity.split()) + r"(?![\w])"
    return [m.start() for m in re.finditer(pattern, text)]
