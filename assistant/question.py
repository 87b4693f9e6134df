"""What a question asks for, in the manner of classic factoid QA (wh-word + head noun -> answer type):
the expected kind of answer (money, count, share, duration, year, names), the counted thing, the named
entities (and which of them is the subject), the attributes it is about, and its focus terms. FR and EN."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from assistant.types import Language
from assistant import lang as langdata


def fold(text: str) -> str:
    """Lower-case without accents, typographic apostrophes made plain; one character for one, so
    offsets found in the folded text hold in the original."""
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    if c == "’":
        return "'"
    low = c.lower()
    if len(low) != 1:
        return c
    return unicodedata.normalize("NFD", low)[0]


# Counted things: question words -> the canonical unit the figures module gives (or a noun).
# Bilingual, so an English question meets a French figure ("GPUs" ~ "GPU", "users" ~ "utilisateurs").
UNIT_SYNONYMS: dict[str, str] = {
    "gpu": "GPU", "gpus": "GPU", "h100": "GPU", "h100s": "GPU", "puce": "GPU", "puces": "GPU", "chip": "GPU",
    "chips": "GPU", "processeur": "GPU", "processeurs": "GPU", "processor": "GPU", "processors": "GPU",
    "card": "GPU", "cards": "GPU", "carte": "GPU", "cartes": "GPU", "graphics": "GPU",
    "employe": "employee", "employes": "employee", "employee": "employee", "employees": "employee",
    "salarie": "employee", "salaries": "employee", "staff": "employee", "personnes": "person", "people": "person",
    "ingenieur": "employee", "ingenieurs": "employee", "engineers": "employee", "workers": "employee",
    "headcount": "employee", "effectif": "employee", "effectifs": "employee",
    "utilisateur": "user", "utilisateurs": "user", "user": "user", "users": "user", "abonne": "user",
    "abonnes": "user", "subscribers": "user", "subscriber": "user", "clients": "user", "customers": "user",
    "mois": "month", "month": "month", "months": "month", "an": "year", "ans": "year", "annees": "year",
    "years": "year", "year": "year", "semaines": "week", "weeks": "week", "jours": "day", "days": "day",
    "dollars": "USD", "dollar": "USD", "euros": "EUR", "euro": "EUR", "argent": "USD", "money": "USD",
    "cash": "USD",
    "data": "datacenter", "datacenters": "datacenter",  # "centres" alone are any centres (physiotherapy, call)
    "investisseurs": "investor", "investors": "investor", "modeles": "model", "models": "model",
}
_DURATION_UNITS = {"month", "year", "week", "day"}

# Head nouns of "what/which/quel ..." questions -> the kind of answer they ask for (folded prefixes of
# whole words, checked in question order: "Quel montant de financement" is money, "Quel journal a rendu
# compte de l'accord de financement" is names).
HEAD_NOUNS: dict[str, tuple[str, ...]] = {
    "percent": ("part", "parts", "share", "pourcentage", "percentage", "proportion", "taux", "rate", "fraction",
                "marge", "margin", "participation", "turnout", "ponctualite", "punctuality", "efficacite",
                "efficacy", "chomage", "unemployment", "inflation", "couverture", "coverage"),
    "year": ("annee", "year", "date", "echeance", "deadline", "horizon"),
    "duration": ("delai", "duree", "duration", "period", "periode", "temps"),
    "count": ("nombre", "number", "count", "quantite", "quantity", "fleet", "parc", "flotte", "stock"),
    "measure": ("temperature", "temperatures", "precipitations", "pluviometrie", "rainfall", "cumul", "vitesse",
                "speed", "distance", "longueur", "length", "altitude", "profondeur", "depth", "poids", "weight",
                "production", "capacite", "capacity", "puissance", "consommation", "consumption"),
    "money": ("montant", "somme", "sum", "amount", "budget", "rallonge", "enveloppe", "valeur", "value",
              "valorisation", "valuation", "worth", "perte", "pertes", "loss", "losses", "revenu", "revenus",
              "revenue", "revenues", "recette", "recettes", "chiffre d'affaires", "sales", "ventes", "cout",
              "cost", "costs", "prix", "price", "depense", "depenses", "spending", "investissement",
              "investment", "levee", "round", "fundraising", "funding", "financement", "salaire", "salary",
              "benefice", "benefices", "profit", "profits", "dette", "debt", "deficit", "tresorerie"),
    "names": ("entreprise", "entreprises", "societe", "societes", "company", "companies", "firm", "firms",
              "fonds", "fund", "funds", "investisseur", "investisseurs", "investor", "investors", "backer",
              "backers", "journal", "journaux", "newspaper", "newspapers", "media", "medias", "outlet",
              "outlets", "publication", "source", "sources", "partenaire", "partenaires", "partner", "partners",
              "fabricant", "fabricants", "maker", "makers", "chipmaker", "manufacturer", "constructeur",
              "concurrent", "concurrents", "competitor", "competitors", "rival", "rivals", "leader", "leaders",
              "dirigeant", "dirigeants", "pdg", "ceo", "patron", "boss", "fondateur", "founder", "personne",
              "person", "modele", "modeles", "model", "models", "chatbot", "chatbots", "produit", "product",
              "marque", "brand", "groupe", "group", "banque", "bank", "agence", "agency", "nom", "name",
              "startup", "start-up", "plateforme", "platform", "reseau", "network"),
}
_HEAD_INDEX = {w: kind for kind, words in HEAD_NOUNS.items() for w in words}
_WH_DETERMINER = re.compile(r"\b(quel|quelle|quels|quelles|lequel|laquelle|lesquels|lesquelles|what|which)\b")
_HOW_BIG = re.compile(r"\bhow (big|large|much of an?|great|high)\b|\bquelle (taille|ampleur)\b")

_NAMES = re.compile(
    r"^\s*(?:(?:a|par|avec|de|chez|pour|selon|d'apres|aupres de)\s+)?(?:qui|who|whom|whose)\b"
    r"|\b(?:selon qui|d'apres qui|according to whom|by whom|with whom|avec qui|a qui|par qui)\b"
    r"|\bcomment s'appellen?t?\b|\b(?:what|quel) (?:is|est) (?:the|le) (?:name|nom)\b|\bname the\b|\bnomme[rz]?\b"
    r"|\bwhat is (?:it|\w+) called\b|\bhow is \w+ called\b"
)
_PERCENT = re.compile(
    r"\b(?:what|which) (?:percentage|percent|share|proportion|fraction)\b|\bpourcentage|\bpercentage\b|\bpercent\b"
    r"|\bproportion\b|\bquelle part\b|\bshare of\b"
    r"|\bde combien\b.*\b(?:baiss|chut|recul|augment|hauss|diminu|progress)"
    r"|\bby how much\b.*\b(?:drop|fall|fell|declin|lower|down|rise|rose|grow|grew|increas|decreas)|%"
    r"|\bhow much (?:has|have|had|did|do|does)\b.*\b(?:fallen|fell|dropped|declined|decreased|shrunk|risen|rose|grown|grew|"
    r"increased)\b"
)
_YEAR = re.compile(
    r"^\s*(?:when|quand)\b|\bpour quand\b|\bd'ici quand\b|\bjusqu'a quand\b|\bdepuis quand\b|\bby when\b"
    r"|\b(?:in |by |en |pour |a )?(?:what|which|quelle) (?:year|annee)\b|\ba quelle date\b|\bby what date\b"
    r"|\bwhen (?:is|was|are|were|will|would|could|did|does|do)\b"
)
_DURATION = re.compile(
    r"\bhow long\b|\bcombien de temps\b|\bquelle duree\b|\bwithin what time|\bover what period|\bdans quel delai"
    r"|\ben combien de (?:mois|temps|semaines|jours|annees)|\bhow many (?:months|years|weeks|days)\b"
    r"|\bcombien de (?:mois|semaines|jours|annees)\b|\bhow (?:quickly|fast|soon)\b|\ben quel delai"
)
_COUNT = re.compile(r"\b(?:how many|combien (?:de |d')|nombre (?:de |d')|number of|quantite de)\s*([\w-]+)(?:\s+([\w-]+))?")
_FUNCTION_WORDS = frozenset("""of the these those them its their his her our your which entre eux elles ceux celles
ces les leurs ses des de du d""".split())
_HOW_MUCH = re.compile(r"\bhow much\b|\bcombien\b|\bwhat does \w+ cost\b")
# A purpose adjunct at the end of a question ("pour survivre à ses pertes", "to cover its losses").
_PURPOSE = re.compile(r"\b(?:pour|afin d[e'])\s*(?:(?:se|s'|en|y)\s*)?\w+(?:er|ir|re)\b"
                      r"|\b(?:in order to|so as to|to (?:survive|cover|offset|pay for|make up for|stay afloat|keep))\b")
_PER = {
    "month": re.compile(r"\bpar mois\b|\bchaque mois\b|\bmensuel|\bper month\b|\ba month\b|\beach month\b"
                        r"|\bevery month\b|\bmonthly\b"),
    "year": re.compile(r"\bpar an\b|\bchaque annee\b|\bannuel|\bper year\b|\ba year\b|\beach year\b|\bannual"
                       r"|\byearly\b"),
}
_YEAR_IN_TEXT = re.compile(r"\b(19|20)\d{2}\b")

# Bilingual concepts of business news: a question and a clause that share one talk about the same thing
# even across languages ("raise" ~ "levée de fonds", "valued" ~ "évalué"). Folded prefixes of words.
CONCEPTS: dict[str, tuple[str, ...]] = {
    # attributes a figure can be (see ATTRIBUTES)
    "raise": ("rais", "fund", "financ", "leve", "levee", "obten", "obtain", "secur", "collect", "recolt", "round",
              "tour de table", "cycle de financement", "pull in", "pulled in", "apport", "boucl", "injection de capital"),
    "valuation": ("valu", "valor", "evalu", "worth", "vaut", "valent", "valeur"),
    "loss": ("loss", "lose", "losing", "lost", "perte", "perd", "burn", "brul", "deficit", "engloutir", "englouti"),
    "revenue": ("revenu", "chiffre d'affaires", "sales", "vente", "earn", "gagn", "income", "recette", "encaiss",
                "generat", "genere"),
    "spend": ("spend", "spent", "depens", "debours", "budget", "cost", "cout", "outlay", "inject", "put into",
              "rallonge", "investit", "investir", "investira", "investi ", "investissement", "invests", "investing",
              "invested", "investment"),  # investing, not investors
    "price": ("price", "prix", "tarif", "unit cost", "cout unitaire", "per unit", "unitaire"),
    "salary": ("salary", "salaire", "remuneration", "pay package", "compensation"),
    "founded": ("founded", "founding", "fondee", "fonde ", "fondation", "created", "creation", "creee", "cree ",
                "launched", "lancee", "naissance", "incorporated"),
    # other things a clause can be about
    "reserve": ("set aside", "reserv", "earmark", "already", "deja", "allocat", "allou", "mis de cote",
                "mise de cote", "au depart", "initial", "originally", "prevu au depart"),
    "additional": ("additional", "extra", "supplement", "en plus", "further", "more on", "rallonge", "de plus",
                   "besides", "outre"),
    "buy": ("buy", "bought", "purchas", "achet", "achat", "acqui", "order", "command"),
    "gpu": ("gpu", "puce", "chip", "h100", "nvidia", "processor", "processeur", "carte graphique",
            "cartes graphiques", "graphics card"),
    "users": ("user", "utilisat", "subscri", "abonn"),
    "ads": ("advertis", "ad revenue", "ads", "publicit", "pub "),
    "target": ("target", "aim", "goal", "vise", "viser", "objectif", "porter ce chiffre", "plan to", "intend",
               "veut", "voul", "want", "souhait", "jusqu'a", "compte deployer", "prevoit de", "ambition"),
    "current": ("in service", "en service", "operat", "exploit", "currently", "actuellement", "desormais", "now",
                "today", "aujourd'hui", "en ce moment", "running", "fait tourner", "utilise", "en train de",
                "finalis", "wrapping up", "under way"),
    "half": ("half", "moitie", "majeure partie", "essentiel", "most of", "bulk"),
    "soon": ("how quickly", "how soon", "how fast", "within", "delai", "a venir", "next", "coming", "absorb",
             "used up", "consum", "prochain", "proche", "bientot", "near term", "near future", "soon"),
    "this_year": ("this year", "cette annee", "annee en cours", "current year", "for the year", "pour l'annee"),
    "last_year": ("last year", "l'an dernier", "l'annee derniere", "l'an passe", "l'annee passee", "previous year",
                  "prior year"),
    "next_year": ("next year", "l'an prochain", "l'annee prochaine", "coming year"),
    "decline": ("declin", "drop", "fall", "fell", "down", "baisse", "chute", "recul", "lower", "inferieur", "perdu"),
    "vr": ("vr", "virtual reality", "realite virtuelle", "metavers"),
    "partner": ("partenaire", "partenariat", "partner", "associe", "alli", "collabor"),
    "startup": ("startup", "start-up", "jeune pousse"),
    "chatbot": ("chatbot", "assistant conversationnel", "agent conversationnel", "bot"),
    "leader": ("leader", "domin", "chef de file", "geant", "giant", "grands acteurs", "big player"),
    "catch_up": ("rattrap", "catch up", "catching up", "retard", "behind", "combler"),
    "report": ("rapport", "report", "reveal", "revel", "rendu compte", "rend compte", "publie", "published",
               "according", "selon", "newspaper", "journal", "media", "outlet"),
    "invest": ("invest", "backer", "bailleur", "capital-risque", "venture", "fonds", "funds", "soutien", "financ",
               "fund"),
    "lead": ("pdg", "ceo", "dirig", "directeur", "patron", "boss", "head of", "chief", "runs ", "run meta"),
    "make": ("fabric", "make", "maker", "produi", "product", "constructeur", "manufactur", "concep"),
    "rival": ("rival", "concurren", "compet", "adversaire"),
    "model": ("modele", "model"),
    "resources": ("ressource", "resource", "draw on", "puissance de calcul", "compute", "computing power"),
}
# The concepts a figure is (a raise, a valuation, a loss...): a question about one and a clause about
# another talk about different figures.
ATTRIBUTES = frozenset({"raise", "valuation", "loss", "revenue", "spend", "price", "salary", "founded"})
# Attributes that are one act in an entity's life, told in the sentence that states it ("founded"): a
# sentence that does not tell the act answers nothing about it.
EVENTS = frozenset({"founded"})
# Roles a names question may ask for ("who runs", "le directeur"): told in the sentence that names the holder.
ROLES = frozenset({"lead"})
# When a statement holds: a question about last year is not answered by this year's forecast.
TIME_FRAMES = frozenset({"this_year", "last_year", "next_year"})
_CONCEPT_RX = {name: re.compile(r"(?<![\w])(?:" + "|".join(re.escape(p) for p in prefixes) + ")")
               for name, prefixes in CONCEPTS.items()}


def concepts(text: str) -> frozenset[str]:
    folded = fold(text)
    return frozenset(name for name, rx in _CONCEPT_RX.items() if rx.search(folded))


def concept_positions(text: str) -> list[tuple[int, str]]:
    """(offset, concept) of every concept mention, in text order (folding keeps offsets for these scripts)."""
    folded = fold(text)
    found = [(m.start(), name) for name, rx in _CONCEPT_RX.items() for m in rx.finditer(folded)]
    return sorted(found)


# Words that start a question or are common words, never entities even when capitalised.
_NOT_ENTITIES = frozenset(fold(w) for w in """
how what which who whom whose why when where is are does did do was were the a an and or of in on for to by
according combien quel quelle quels quelles qui que quoi pourquoi comment quand où est-ce et ou le la les un une
des du de d l selon d'après en au aux par pour sur dans avec sans il elle ils elles its it their sa son ses leur
can could would will should has have had may might tell give list name please donne dis cite indique
and also then so but mais donc alors jusqu'à jusqu lequel laquelle
at from with into since after before during besides depuis avant après pendant avec chez entre vers sous
ça ca cela ceci voici voila
""".split())
_FIGURE_SHORTHAND = re.compile(r"^\d+(?:[.,]\d+)?(?:bn|b|m|k|md|mds|mrd|mrds)$", re.IGNORECASE)

_TOKEN = re.compile(r"[\w][\w'’.-]*[\w]|\w", re.UNICODE)
# Words before an entity that make it a side party of the question, not its subject: "from backers such as
# Sequoia", "avec Microsoft", "emprunter à Tesla", "into xAI".
_SIDE_CUE = re.compile(
    r"(?:\b(?:from|with|into|in|to|such as|like|including|besides|than|avec|aupres de|a|au|aux|dans|comme|dont|"
    r"notamment|chez|contre|versus|vs)\s+(?:(?:the|le|la|les|l'|des|d'|de|fonds|funds|backers|firms|"
    r"societes|partenaire|partner|its|son|sa|ses)\s+)*)$"
)


@dataclass(frozen=True)
class QuestionFrame:
    text: str
    language: Language
    kind: str  # 'money' | 'count' | 'percent' | 'duration' | 'year' | 'measure' | 'names' | 'other'
    unit: str = ""  # counted thing for 'count' (canonical), duration unit for 'duration'
    entities: tuple[str, ...] = ()
    per: str = ""
    years: tuple[str, ...] = ()
    focus: tuple[str, ...] = field(default=())  # folded content words
    concepts: frozenset[str] = field(default=frozenset())
    subjects: tuple[str, ...] = ()  # the entities the asked figure belongs to (others are side parties)
    explicit: bool = True  # False when only a bare "how much"/"combien" gave the kind (a follow-up may refine it)
    attributes: frozenset[str] = field(default=frozenset())  # what the figure asked is (raise, loss...)
    article_ref: str = ""  # "the article on xAI's losses": which article the user means, in their words

    @property
    def time_frames(self) -> frozenset[str]:
        return self.concepts & TIME_FRAMES


_GENERIC_CAPS = frozenset({"ia", "ai", "llm", "llms", "gpu", "gpus", "h100", "h100s", "ceo", "pdg", "vr", "rv",
                           "usd", "eur"})


def extract_entities(question: str) -> list[str]:
    """Runs of capitalised tokens (xAI, OpenAI, Mark Zuckerberg, X Premium, Financial Times).
    Domain acronyms (IA, GPU, H100) are subjects, not names, and break a run; so does a possessive."""
    return [name for _, name in _entity_spans(question)]


def _entity_spans(question: str) -> list[tuple[int, str]]:
    entities: list[tuple[int, str]] = []
    run: list[str] = []
    run_start = 0
    prev_end = -1

    def flush() -> None:
        if run:
            entities.append((run_start, " ".join(run)))
            run.clear()

    for m in _TOKEN.finditer(question):
        tok = m.group()
        elided = re.match(r"^(?:[ldjmnstc]|qu)['’]", tok, flags=re.I)
        tok = tok[elided.end():] if elided else tok  # "d'OpenAI", "l'IA"
        possessive = bool(re.search(r"['’]s$", tok))
        tok = re.sub(r"['’]s$", "", tok).strip("'’.-")
        capital = bool(tok) and (tok[0].isupper() or any(c.isupper() for c in tok[1:]) or
                                 (any(c.isdigit() for c in tok) and any(c.isalpha() for c in tok)))
        if (capital and fold(tok) not in _NOT_ENTITIES and fold(tok) not in _GENERIC_CAPS and not tok.isdigit()
                and not _FIGURE_SHORTHAND.match(tok)):
            # A brand written in camel case (xAI, iPhone) is a name of its own, never the tail of another.
            if run and (question[prev_end:m.start()].strip() or tok[0].islower() or run[-1][0].islower()):
                flush()
            if not run:
                run_start = m.start() + (elided.end() if elided else 0)
            run.append(tok)
            if possessive:
                flush()
        else:
            flush()
        prev_end = m.end()
    flush()
    return entities


def _subjects(question: str, spans: list[tuple[int, str]]) -> tuple[str, ...]:
    """The entities the question's figure belongs to: not side parties ("from Sequoia", "avec Microsoft")
    nor modifiers of the counted thing ("Nvidia GPUs", "puces Nvidia H100")."""
    folded = fold(question)
    subjects = []
    side_end = -1
    for start, name in spans:
        before = folded[max(0, start - 40):start]
        after = folded[start + len(name):start + len(name) + 12]
        listed = side_end >= 0 and re.fullmatch(r"\s*(?:,|et|ou|and|or|&)\s*", folded[side_end:start])
        if _SIDE_CUE.search(before) or listed:  # "from Sequoia and Andreessen Horowitz": both side parties
            side_end = start + len(name)
            continue
        next_word = re.match(r"\W*([\w-]+)", after)
        if next_word and UNIT_SYNONYMS.get(next_word.group(1)) == "GPU":
            continue  # "Nvidia GPUs", "puces Nvidia H100": a brand of the counted thing
        subjects.append(name)
    names = [n for _, n in spans]
    return tuple(subjects) if subjects else tuple(names)


# Words between "what/which/quel" and its head noun: verbs "be", articles, possessives, numbers and a few
# adjectives ("Quelle perte totale", "What extra amount", "Which competing AI models").
_BEFORE_HEAD = frozenset("""is are was were est sont etait etaient the a an le la les l un une des du de d its their sa son
ses leur leurs this that ce cette ces other autre autres new nouveau nouvelle nouveaux nouvelles total totale extra
additional supplementaire supplementaires main principal principale current actuel actuelle actuels exact exacte
competing rival rivaux rivale monthly mensuel mensuelle annual annuel annuelle latest dernier derniere first premier
premiere ai ia much many""".split())


# Determiners that, followed by a word that is no verb, ask for a thing of that noun ("quel quotidien",
# "which regulator"); "what" also opens "what did it raise", so "what" + a verb falls through.
_NOUN_DETERMINERS = frozenset("quel quelle quels quelles which what".split())
_VERBS_AFTER_WH = frozenset("""est sont etait etaient sera seront fut a ont avait avaient aura is are was were be
has have had do does did will would can could should may might must""".split())


def _head_kind(q: str, names: frozenset[str]) -> tuple[str, str] | None:
    """(kind, unit) from the head noun after "what/which/quel" or "how big": the first word past articles,
    possessives and adjectives ("Quelle perte totale", "What GPU count", "What is xAI's monthly loss");
    ("other", "") when a noun the lexicon does not know follows the determiner ("Quel quotidien a révélé
    la levée ?" asks for a newspaper, not for the raise it names); None when the head is not found."""
    unknown_head = False
    for m in list(_WH_DETERMINER.finditer(q)) + list(_HOW_BIG.finditer(q)):
        words = re.findall(r"[\w'-]+", q[m.end():])[:8]
        unit = ""
        for i, w in enumerate(words):
            w = re.sub(r"^(?:l|d|qu)'", "", w)
            pair = f"{w} {words[i + 1]}" if i + 1 < len(words) else ""
            kind = _HEAD_INDEX.get(pair) or _HEAD_INDEX.get(w)
            if kind is None and pair.startswith("chiffre d'"):
                kind = "money"
            if kind == "count" or (kind is None and unit and w in ("count", "nombre", "number")):
                return "count", unit
            if kind:
                return ("money", "") if kind == "money" else (kind, "")
            found = UNIT_SYNONYMS.get(w) or UNIT_SYNONYMS.get(w.rstrip("s"))
            if found in ("USD", "EUR"):
                return "money", ""
            if found and found not in _DURATION_UNITS:
                unit = found  # "What GPU count": the counted thing, then its head
                continue
            if w in _BEFORE_HEAD or w.isdigit() or w.endswith("'s") or w in names:
                continue
            # An English compound puts its head last ("venture capital firms"): look two words on, not past
            # a possessive or a name ("the two assets xAI's leaders" is about assets).
            for nxt in words[i + 1:i + 3]:
                if nxt.endswith("'s") or nxt in names:
                    break
                if _HEAD_INDEX.get(nxt):
                    return ("money", "") if _HEAD_INDEX[nxt] == "money" else (_HEAD_INDEX[nxt], "")
            if i == 0 and m.group(1) in _NOUN_DETERMINERS and w not in _VERBS_AFTER_WH:
                unknown_head = True  # "Quel quotidien…", "Which regulator…": a thing asked, not an amount
            break  # the head noun, and not one the lexicon knows
        if unit:
            return "count", unit
    return ("other", "") if unknown_head else None


def _answer_type(q: str, names: frozenset[str] = frozenset()) -> tuple[str, str, bool]:
    """(kind, unit, explicit) of the answer the question asks for. `q` is folded; `names` are the folded
    words of its entities."""
    if _DURATION.search(q):
        m = re.search(r"\b(mois|months?|annees|years?|semaines|weeks?|jours|days?)\b", q)
        return "duration", UNIT_SYNONYMS.get(m.group(1), "month") if m else "", True
    if _YEAR.search(q):
        return "year", "", True
    if _PERCENT.search(q):
        return "percent", "", True
    if _NAMES.search(q):
        return "names", "", True
    count = _COUNT.search(q)
    if count:
        # "how many of those", "combien d'entre eux": a function word counts nothing
        words = [w for w in count.groups() if w and w not in _FUNCTION_WORDS] or [""]
        known = [w for w in words if UNIT_SYNONYMS.get(w) or UNIT_SYNONYMS.get(w.rstrip("s"))]
        noun = known[0] if known else words[0]
        if not known and len(words) == 2 and words[1].endswith("s") and not words[0].endswith("s"):
            noun = words[1]  # an English compound puts its head last: "physiotherapy centres"
        canonical = UNIT_SYNONYMS.get(noun, UNIT_SYNONYMS.get(noun.rstrip("s"), ""))
        if canonical in ("USD", "EUR") or _HEAD_INDEX.get(noun) == "money":
            return "money", "", True  # "combien d'argent", "combien de revenus"
        if canonical in _DURATION_UNITS:
            return "duration", canonical, True
        if noun not in ("fois", "times", "temps", "time", "plus", "more", "moins", "less"):
            return "count", canonical or noun.rstrip("s"), True
    head = _head_kind(q, names)
    if head:
        return head[0], head[1], True
    if _HOW_MUCH.search(q):
        return "money", "", False  # "combien" alone: money unless a follow-up's context says otherwise
    if (_WH_DETERMINER.search(q) and not re.search(r"\b(?:why|pourquoi|comment|how)\b", q)
            and concepts(q) & (ATTRIBUTES - {"founded"})):
        return "money", "", True  # "What is xAI valued at?", "What did it raise?": the amount of that attribute
    words = re.findall(r"[\w'-]+", q)
    if len(words) <= 6:  # an elliptic turn names what it asks: "Et sa valorisation ?", "And the revenue?"
        for w in words:
            w = re.sub(r"^(?:l|d|qu)'", "", w)
            if w in _HEAD_INDEX and _HEAD_INDEX[w] != "names":
                return _HEAD_INDEX[w], "", True
    return "other", "", False



# "the article on xAI's losses", "l'article sur les pertes de xAI": the user points at one article.
_ARTICLE_REF = re.compile(
    r"\b(?:article|papier|story|piece|report)\s+(?:on|about|sur|concernant|consacre a|qui parle de|covering|that covers)"
    r"\s+(.+?)(?=\s+(?:names?|mentions?|cites?|says?|dit|nomme|mentionne|cite)\b|\s*[?.!]*$)")


def analyse(question: str, language: Language) -> QuestionFrame:
    q = question.strip()
    folded = fold(q)
    ref = _ARTICLE_REF.search(folded)
    article_ref = q[ref.start(1):ref.end(1)] if ref else ""
    # The article reference locates the article; its words (and entities) are not what is asked about.
    asked_q = without_reference(q, article_ref)
    names = frozenset(fold(w) for _, name in _entity_spans(q) for w in name.split())
    kind, unit, explicit = _answer_type(folded, names)
    per = next((p for p, rx in _PER.items() if rx.search(folded)), "")
    words = [fold(w) for w in re.findall(r"\w+", asked_q)]
    focus = tuple(w for w in words if len(w) > 2 and w not in _NOT_ENTITIES)
    spans = [(p, n) for p, n in _entity_spans(q) if not (ref and ref.start(1) <= p < ref.end(1))]
    found = concepts(asked_q)
    # What the question asks about, before any purpose adjunct: "Combien xAI cherche-t-elle à obtenir
    # pour survivre à ses pertes ?" asks about a raise, not a loss.
    asked = concepts(asked_part(asked_q)) & ATTRIBUTES
    return QuestionFrame(q, language, kind, unit, tuple(n for _, n in spans), per,
                         tuple(m.group() for m in _YEAR_IN_TEXT.finditer(asked_q)), focus, found,
                         _subjects(q, spans), explicit, asked, article_ref)


def asked_part(question: str) -> str:
    """The question before a purpose adjunct ("… pour survivre à ses pertes" says why, not what)."""
    purpose = _PURPOSE.search(fold(question))
    return question[:purpose.start()] if purpose and purpose.start() > 10 else question


def without_reference(question: str, article_ref: str) -> str:
    """The question minus the words that point at an article ("... in the article on xAI's losses")."""
    if not article_ref:
        return question
    at = question.find(article_ref)
    return (question[:at] + question[at + len(article_ref):]) if at >= 0 else question


def mentions(text: str, entity: str) -> list[int]:
    """Offsets where an entity is named in text (whole words; 'qu'OpenAI' counts)."""
    pattern = r"(?<![\w])" + r"\s+".join(re.escape(part) for part in entity.split()) + r"(?![\w])"
    return [m.start() for m in re.finditer(pattern, text)]


def asks_explanation(question: str, language: Language) -> bool:
    """A why/how question, answered by a passage (assistant/lang/*/EXPLANATION_ASK); any other question of
    no known answer type is a factoid one the engine cannot type, and is refused rather than guessed."""
    return bool(re.search(langdata.get(language).EXPLANATION_ASK, question, re.IGNORECASE))

