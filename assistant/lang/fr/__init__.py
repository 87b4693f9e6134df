"""French: general language data (no word of any one article)."""

SPACY_MODEL = "fr_core_news_md"

# Lemmas that make a figure a forecast, a target or a reported claim rather than a stated fact.
FORECAST = frozenset("""prévoir prévision prévisionnel attendre anticiper estimer estimation tabler projeter
projection objectif viser cible ambitionner espérer compter pronostic perspective pouvoir devoir""".split())
REPORTED = frozenset("""selon rapporter affirmer indiquer déclarer annoncer préciser""".split())

REPORTED_CUE = r"(?:\bselon|\bd['’]après|\brapporte|\bindique|\bpar)\W*(?:le |la |les |l['’])?\s*$"

# Relative time: a figure of the period before the one the sentence is about.
PRIOR_PERIOD = (r"\b(?:un an plus tôt|un an auparavant|l'an dernier|l’an dernier|l'année dernière|l’année dernière"
                r"|l'an passé|l’an passé|l'année précédente|l’année précédente|l'exercice précédent|l’exercice précédent"
                r"|le trimestre précédent|au trimestre précédent|un trimestre plus tôt|précédent(?:e)?"
                r"|auparavant|à la même période)")
# Words that introduce the earlier figure of a comparison ("3 % contre 2 %", "en hausse par rapport à").
PRIOR_LEAD = r"(?:\bcontre|\bpar rapport à|\bcomparé à|\bvs\.?|\bau lieu de|\baprès|\bde)\s*$"
NEXT_PERIOD = r"\b(?:l'an prochain|l’an prochain|l'année prochaine|l’année prochaine|d'ici|d’ici|à venir|prochaine?s?)\b"
# Periods named in text: quarters, halves, months.
QUARTERS = {r"\b(?:premier trimestre|T1|1er trimestre)\b": "Q1", r"\b(?:deuxième trimestre|second trimestre|T2)\b": "Q2",
            r"\b(?:troisième trimestre|T3)\b": "Q3", r"\b(?:quatrième trimestre|dernier trimestre|T4)\b": "Q4"}
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")

# Question words.
PRIOR_ASK = (r"\b(?:un an plus tôt|un an auparavant|l'an dernier|l’an dernier|l'année dernière|l’année dernière"
             r"|l'année précédente|l’année précédente|l'an passé|précédent|avant|auparavant|plus tôt|un an avant)\b")
FORECAST_ASK = r"\b(?:prévu|prévue|prévus|prévues|prévoit|prévision|attendu|attendue|objectif|vise|prévisions?|anticip\w*|estim\w*|table)\b"
COMPOUND_JOIN = r",?\s+et\s+(?=(?:à |a |de |d'|d’|en |pour |sur |avec )?(?:combien|quel|quelle|quels|quelles)\b)"
# "..., et un an plus tôt ?", "..., et l'année d'avant ?": the same question for another time.
COMPOUND_TIME = (r",\s+et\s+(?=(?:(?:sur |à |au |en |pour |lors de )?(?:la |le |l['’])?(?:même |meme )?[\w'’ -]{0,30}"
                 r"(?:plus tôt|auparavant|avant|précédente?|d['’]avant|dernière?|passée?)|(?:fin |en )?(?:19|20)\d{2})\s*\??\s*$)")
# Person vs organisation, from the head noun or wh-word of a names question (general nouns only).
PERSON_HEADS = frozenset("""qui personne dirigeant dirigeante patron patronne pdg directeur directrice président
présidente fondateur fondatrice auteur autrice chercheur chercheuse joueur joueuse entraîneur entraîneuse
réalisateur réalisatrice acteur actrice porte-parole ministre maire candidat candidate vainqueur gagnant gagnante
buteur responsable chef chercheurs scientifique médecin expert analyste économiste""".split())
ORG_HEADS = frozenset("""entreprise société groupe fonds investisseur investisseurs banque journal média agence
institut organisme laboratoire université club équipe parti constructeur opérateur compagnie studio marque
startup start-up plateforme cabinet assureur distributeur fournisseur partenaire partenaires concurrent
hôpital ville villes région régions pays""".split())

# Phrasings that address a model, not a reader (assistant/instructions.py): never evidence.
INSTRUCTION = (r"\b(?:ignorez?|ignorer|oublie[zr]?)\b.{0,40}\b(?:instructions?|consignes?|règles)\b"
               r"|\bprompt syst[èe]me\b|\btu es maintenant\b|\bà (?:toutes|chaque) (?:les )?questions?\b"
               r"|\b(?:réponds|répondez|dis|dites) toujours\b"
               r"|\b(?:tu dois|vous devez|il faut) (?:toujours )?(?:répondre|dire|affirmer|indiquer)\b")
