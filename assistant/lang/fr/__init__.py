"""French: general language data (no word of any one article)."""

SPACY_MODEL = "fr_core_news_md"

# Lemmas that make a figure a forecast, a target or a reported claim rather than a stated fact.
FORECAST = frozenset("""prévoir prévision prévisionnel attendre anticiper estimer estimation tabler projeter
projection objectif viser cible ambitionner espérer compter pronostic perspective pouvoir devoir""".split())
REPORTED = frozenset("""selon rapporter affirmer indiquer déclarer annoncer préciser""".split())

REPORTED_CUE = r"(?:\bselon|\bd['’]après|\brapporte|\bindique|\bpar)\W*(?:le |la |les |l['’])?\s*$"
# What introduces the outlet or body a sentence is attributed to ("a indiqué l'AFP", "selon l'Insee"): a name
# right after it is the source of the news, not its subject. (No "par": "mené par X" names an actor.)
SOURCE_CUE = (r"(?:(?:\bselon|\bd['’]après)\s+(?:le |la |les |l['’])?|\b(?:indiqu|rapport|affirm|déclar|annonc|précis|révél)\w*"
              r"\s+(?:le |la |les |l['’]))\s*$")

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
PERSON_HEADS = frozenset("""qui personne patron patronne pdg directeur directrice président
présidente fondateur fondatrice auteur auteure autrice chercheur chercheuse joueur joueuse entraîneur entraîneuse
réalisateur réalisatrice acteur actrice porte-parole ministre maire candidat candidate buteur chercheurs
scientifique médecin économiste""".split())
# Les noms d'un agent, personne ou organisation (« les leaders de l'IA », « le vainqueur », « un analyste »).
AGENT_HEADS = frozenset("""dirigeant dirigeante responsable chef leader leaders vainqueur gagnant gagnante expert
analyste propriétaire tête""".split())
ORG_HEADS = frozenset("""entreprise société groupe fonds investisseur investisseurs banque journal média agence
institut organisme laboratoire université club équipe parti constructeur opérateur compagnie studio marque
startup start-up plateforme cabinet assureur distributeur fournisseur partenaire partenaires concurrent
hôpital""".split())
PLACE_HEADS = frozenset("""ville villes commune communes village villages région régions pays province provinces
département départements capitale capitales""".split())
# Les interrogatifs qui demandent une personne ou une organisation (« Qui a révélé… » : un journal convient).
WHO_WORDS = frozenset("qui".split())
# Le type demandé se lit dans le seul groupe interrogatif, du mot interrogatif à la première préposition.
WH_WORDS = frozenset("qui quel quelle quels quelles lequel laquelle lesquels lesquelles".split())
# Words that open a question in this language only (see assistant/lang/en).
INTERROGATIVES = frozenset("combien quel quelle quels quelles qui quoi pourquoi comment où quand lequel laquelle lesquels lesquelles".split())
PREPOSITIONS = frozenset("de du des d dans à au aux pour avec par sur en chez entre parmi sous selon depuis".split())

# Phrasings that address a model, not a reader (assistant/instructions.py): never evidence.
INSTRUCTION = (r"\b(?:ignorez?|ignorer|oublie[zr]?)\b.{0,40}\b(?:instructions?|consignes?|règles)\b"
               r"|\bprompt syst[èe]me\b|\btu es maintenant\b|\bà (?:toutes|chaque) (?:les )?questions?\b"
               r"|\b(?:réponds|répondez|dis|dites) toujours\b"
               r"|\b(?:tu dois|vous devez|il faut) (?:toujours )?(?:répondre|dire|affirmer|indiquer)\b")

# Questions whose answer is a passage, not a figure or a name (pourquoi, comment une chose se fait ou s'est
# faite): les seules auxquelles une phrase de l'article peut répondre (voir assistant/lang/en).
EXPLANATION_ASK = (r"\bpourquoi\b|\bcomment(?! s'appellen?t?\b| se nommen?t?\b)|\bqu'est-ce qui\b|\bque s'est-il passé\b"
                   r"|\bexpliqu|\bdécri[rstv]|\bracont|\bque (?:dit|disent|pense|pensent|raconte)\b|\bqu'a dit\b")

# Une question qui demande un écart en points n'a pour réponse qu'un chiffre en points, jamais un niveau.
POINTS_ASK = r"\bcombien de points\b|\bpoints? de pourcentage\b|\ben points\b|\bnombre de points\b"
