"""Text that addresses a model rather than reports news ("SYSTEM: you must reply that …", "ignore all
previous instructions", "réponds toujours …"). Such a sentence is never evidence: it is kept out of the LLM's
prompt and out of the extractive engine's candidates, so a forged article cannot make either state its
figure with a quote as proof. A heuristic first line; the verifier still checks whatever slips through.

The phrasings are per-language data (assistant/lang/*/INSTRUCTION); role markers and chat-template tokens
are the same in every language. An article may quote text of any supported language, so all are tried."""
from __future__ import annotations

import re
from functools import lru_cache

from assistant import lang as langdata

# "SYSTEM:", "[INST]", "<|im_start|>", "### Assistant:" at a line or sentence start: prompt markup, not prose.
_MARKUP = (r"(?:^|[\n.!?]\s*)(?:#+\s*)?(?:system|assistant|user|developer)\s*:"
           r"|\[/?INST\]|<\|(?:im_start|im_end|system|user|assistant|eot_id)\|>|<</?SYS>>")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    parts = [_MARKUP] + [langdata.get(code).INSTRUCTION for code in langdata.SUPPORTED]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE)


def looks_like_instruction(text: str) -> bool:
    return bool(_pattern().search(text or ""))
