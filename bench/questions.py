"""The questions the bench asks: the eval cases (evals/cases/*.yaml) when they exist, else a built-in
fallback of realistic FR/EN questions about the two articles in sources/ (gold = exact source text).

A conversation is a list of turns; a single question is a conversation of one turn. Turns that have
`source` and `gold` are used for the retrieval comparison (only first turns: later ones depend on
the conversation), every turn is used for answer latency.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "evals" / "cases"

A = "xai-financement-6-milliards.txt"
B = "xai-pertes-1-milliard-par-mois-mac4ever.txt"


@dataclass(frozen=True)
class Turn:
    question: str
    source: str = ""
    gold: str = ""


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    turns: tuple[Turn, ...] = field(default_factory=tuple)


# Used only while evals/cases/ has no YAML (the eval set is written separately).
FALLBACK: list[tuple[str, str, str, str, str]] = [
    # id, language, question, source, gold
    ("raise-fr", "fr", "Combien xAI a-t-elle levé auprès de Sequoia et des autres fonds ?", A,
     "près de 6 milliards de dollars de financement supplémentaire"),
    ("raise-en", "en", "How much extra funding did xAI get from investors like Sequoia?", A,
     "près de 6 milliards de dollars de financement supplémentaire"),
    ("valuation-fr", "fr", "À combien xAI est-elle valorisée après ce tour ?", A,
     "xAI évalué à environ 18 milliards de dollars"),
    ("valuation-en", "en", "What is xAI valued at after the new round?", A,
     "xAI évalué à environ 18 milliards de dollars"),
    ("meta-extra-fr", "fr", "Combien Meta va-t-elle dépenser en plus pour l'IA en 2024 ?", A,
     "5 milliards de dollars supplémentaires pour le développement de l'IA en 2024"),
    ("meta-extra-en", "en", "How much more will Meta spend on AI in 2024?", A,
     "5 milliards de dollars supplémentaires pour le développement de l'IA en 2024"),
    ("meta-reserved-fr", "fr", "Combien Meta avait-elle déjà réservé pour l'IA et la réalité virtuelle ?", A,
     "35 milliards de dollars qu'elle a déjà réservés"),
    ("meta-reserved-en", "en", "How much had Meta already set aside for AI and virtual reality?", A,
     "35 milliards de dollars qu'elle a déjà réservés"),
    ("meta-gpus-fr", "fr", "Combien de GPU Meta a-t-elle en service ?", A,
     "Meta aurait désormais environ 500 000 GPU en service"),
    ("meta-gpus-en", "en", "How many GPUs does Meta have running?", A,
     "Meta aurait désormais environ 500 000 GPU en service"),
    ("openai-gpus-fr", "fr", "Combien de GPU OpenAI veut-elle mettre en production ?", A,
     "environ 10 millions de GPU"),
    ("openai-gpus-en", "en", "How many GPUs is OpenAI aiming to put into production?", A,
     "environ 10 millions de GPU"),
    ("xai-gpus-fr", "fr", "Combien de GPU H100 xAI exploite-t-elle ?", A,
     "xAI exploite actuellement environ 30 000 GPU H100"),
    ("xai-gpus-en", "en", "How many H100 GPUs does xAI operate?", A,
     "xAI exploite actuellement environ 30 000 GPU H100"),
    ("tesla-gpus-fr", "fr", "Combien de GPU supplémentaires Tesla a-t-elle en service ?", A,
     "environ 300 000 GPU supplémentaires en service"),
    ("tesla-gpus-en", "en", "How many extra GPUs does Tesla have in service?", A,
     "environ 300 000 GPU supplémentaires en service"),
    ("premium-fr", "fr", "Quelle part des utilisateurs de X est abonnée à X Premium ?", A,
     "moins de 1 % de la base totale d’utilisateurs de X"),
    ("premium-en", "en", "What share of X users pay for X Premium?", A,
     "moins de 1 % de la base totale d’utilisateurs de X"),
    ("ads-fr", "fr", "De combien les revenus publicitaires de X ont-ils baissé ?", A,
     "en baisse d'environ 50 % par rapport aux niveaux d'avant Elon"),
    ("ads-en", "en", "By how much have X's advertising revenues fallen?", A,
     "en baisse d'environ 50 % par rapport aux niveaux d'avant Elon"),
    ("investors-en", "en", "Which investors took part in xAI's funding?", A,
     "Lightspeed Venture Partners, Andreessen Horowitz, Sequoia Capital et Tribe Capital"),
    ("losses-fr", "fr", "Combien xAI perd-elle par mois ?", B,
     "pertes colossales qui atteindraient 1 milliard de dollars par mois"),
    ("losses-en", "en", "How much money is xAI losing every month?", B,
     "pertes colossales qui atteindraient 1 milliard de dollars par mois"),
    ("loss-2025-fr", "fr", "Quelle perte xAI pourrait-elle subir d'ici 2025 ?", B,
     "une perte incroyable de 13 milliards de dollars d’ici 2025"),
    ("loss-2025-en", "en", "What loss could xAI post by 2025?", B,
     "une perte incroyable de 13 milliards de dollars d’ici 2025"),
    ("round-fr", "fr", "Quel est le montant de la levée de fonds que xAI finalise ?", B,
     "une levée de fonds de 9,3 milliards de dollars"),
    ("round-en", "en", "How big is the funding round xAI is closing?", B,
     "une levée de fonds de 9,3 milliards de dollars"),
    ("revenue-fr", "fr", "Quels revenus xAI prévoit-elle cette année ?", B,
     "500 millions de dollars de revenus"),
    ("revenue-en", "en", "How much revenue does xAI expect this year?", B,
     "500 millions de dollars de revenus"),
    ("bloomberg-en", "en", "Who reported that xAI was losing a billion dollars a month?", B,
     "selon un rapport publié par Bloomberg"),
]


def _case_from_yaml(raw: dict) -> Case | None:
    if "turns" in raw:
        turns = tuple(Turn(str(t["question"]), str(t.get("source", "")), str(t.get("gold", "")))
                      for t in raw["turns"] if isinstance(t, dict) and t.get("question"))
    elif raw.get("question"):
        turns = (Turn(str(raw["question"]), str(raw.get("source", "")), str(raw.get("gold", ""))),)
    else:
        return None
    return Case(str(raw.get("id", "")), str(raw.get("language", "")), turns) if turns else None


def load_cases(cases_dir: Path = CASES_DIR) -> tuple[list[Case], str]:
    """(cases, where they came from). Reads every evals/cases/*.yaml; falls back to FALLBACK."""
    files = sorted(Path(cases_dir).glob("*.yaml")) if Path(cases_dir).is_dir() else []
    cases: list[Case] = []
    if files:
        import yaml

        for path in files:
            for raw in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
                case = _case_from_yaml(raw) if isinstance(raw, dict) else None
                if case is not None:
                    cases.append(case)
    if cases:
        names = ", ".join(p.name for p in files)
        return cases, f"the eval set: evals/cases/ ({names})"
    fallback = [Case(i, lang, (Turn(q, s, g),)) for i, lang, q, s, g in FALLBACK]
    return fallback, "the bench's built-in fallback list (evals/cases/ had no YAML yet)"


def gold_questions(cases: list[Case]) -> list[tuple[str, Turn]]:
    """(case id, turn) for each single question / first turn that names its source and gold span."""
    return [(c.id, c.turns[0]) for c in cases if c.turns and c.turns[0].source and c.turns[0].gold]


def languages(cases: list[Case]) -> dict[str, int]:
    out: dict[str, int] = {}
    for c in cases:
        out[c.language or "?"] = out.get(c.language or "?", 0) + 1
    return out
