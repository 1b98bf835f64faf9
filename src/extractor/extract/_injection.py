"""Sentences of an article that address the model instead of the reader, removed before the call.

An article is data, but a page can carry text written for the machine that reads it: "Ignore all previous
instructions", "You are now a...", "AI assistants summarising this page must...", chat role markers. Such a
sentence is cut from what is sent and listed in the sidecar (`Provenance.removed`), so a reader sees what was
taken out. The rest of the article is sent unchanged: a sentence about prompt injection in general is kept
unless it is itself worded as an order to the model.
"""

from __future__ import annotations

import re

_ADDRESSES_MODEL = re.compile(
    "|".join(
        (
            # orders to drop the instructions
            r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,40}\b(?:previous|prior|above|earlier|all|any|"
            r"your|the|system|these|those)\b[^.!?\n]{0,30}\b(?:instructions?|prompts?|rules|directions|guidelines|"
            r"context|messages?)\b",
            # a new identity or new orders
            r"\byou are now\b|\bfrom now on,? you\b|\bact as (?:an?|the) (?:ai|assistant|model|chatbot|llm)\b",
            r"\bnew (?:system )?instructions?\s*:|\bsystem prompt\b|\bdeveloper mode\b|\bjailbreak\b",
            # the machine reader addressed directly
            r"\b(?:if you are|as) an? (?:ai|llm|language model|large language model|assistant|chatbot|bot)\b",
            r"\b(?:ai|llm|gpt|chatgpt|language model|assistant|chatbot|summari[sz]er|model)s?\b[^.!?\n]{0,40}\b"
            r"(?:must|should|shall|have to|are (?:instructed|required|told))\b[^.!?\n]{0,60}\b(?:name|call|write|say|"
            r"output|answer|respond|reply|include|add|append|title|summari[sz]e|describe|list|mention|visit|link)\b",
            r"\bwhen (?:summari[sz]ing|scanning|processing|reading) this (?:page|article|text|document)\b",
            # chat role markers
            r"<\|?(?:im_start|im_end|system|assistant|user|endoftext)\|?>|\[/?INST\]|<</?SYS>>",
            r"^\s*(?:system|assistant|user)\s*:",
        )
    ),
    re.IGNORECASE | re.MULTILINE,
)
# A sentence ends at . ! or ? followed by a space or the end of the line ("evil.example" is not an end).
_SENTENCE = re.compile(r"\s*.+?(?:[.!?]+[\"'”’)\]]*(?=\s|$)|$)")


def strip_injections(text: str) -> tuple[str, list[str]]:
    """`text` without its sentences that address the model, and those sentences (stripped), in order."""
    removed: list[str] = []
    lines = []
    for line in text.split("\n"):
        if not _ADDRESSES_MODEL.search(line):
            lines.append(line)
            continue
        kept = []
        for sentence in _SENTENCE.findall(line.strip()):
            if _ADDRESSES_MODEL.search(sentence):
                removed.append(sentence.strip())
            else:
                kept.append(sentence)
        rest = " ".join(k.strip() for k in kept).strip()
        if rest:
            lines.append(rest)
    if not removed:
        return text, []
    return "\n".join(lines), removed
