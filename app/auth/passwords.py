"""Passwords too easy to guess: a short built-in list of the commonest, runs of one
character, sequences, short repeated patterns, and passwords holding the user name."""

from __future__ import annotations

import re
import string

# The commonest passwords and their stems (breach lists' top entries): compared with the
# password in lower case, its digits and punctuation at either end left off.
COMMON = frozenset(
    {
        "password",
        "passw0rd",
        "p@ssw0rd",
        "qwerty",
        "qwertyuiop",
        "qwertyuiopasdf",
        "asdfghjkl",
        "zxcvbnm",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "letmein",
        "welcome",
        "iloveyou",
        "admin",
        "administrator",
        "changeme",
        "secret",
        "monkey",
        "dragon",
        "trustno1",
        "football",
        "baseball",
        "sunshine",
        "princess",
        "master",
        "superman",
        "starwars",
        "whatever",
        "loyalty",
        "points",
        "pointsdesk",
        "capillary",
    }
)
SEQUENCES = (string.digits, string.ascii_lowercase, "qwertyuiopasdfghjklzxcvbnm")
_EDGES = re.compile(r"^[\d\W_]+|[\d\W_]+$")
# User-name parts shorter than this are too common in passwords to refuse ("al", "ops").
MIN_NAME_PART = 4

WORDS = {
    "common": "That password is one of the most common: choose another.",
    "pattern": "That password is a repeated or sequential pattern: choose another.",
    "name": "A password must not contain your user name.",
}


def _is_sequence(text: str) -> bool:
    """Each character the next (or the one before) in a known run, wrapping round."""
    for run in SEQUENCES:
        if not all(ch in run for ch in text):
            continue
        steps = {
            (run.index(b) - run.index(a)) % len(run) for a, b in zip(text, text[1:], strict=False)
        }
        if steps in ({1}, {len(run) - 1}):
            return True
    return False


def _is_repeated(text: str) -> bool:
    """A unit of up to a third of the password, repeated to fill it."""
    for size in range(1, len(text) // 3 + 1):
        unit = text[:size]
        if unit * (len(text) // size) + unit[: len(text) % size] == text:
            return True
    return False


def weakness(password: str, username: str) -> str | None:
    """Why the password is too easy to guess ("common", "pattern" or "name"), or None."""
    folded = password.casefold()
    compact = re.sub(r"\s+", "", folded)
    if compact in COMMON or _EDGES.sub("", compact) in COMMON:
        return "common"
    if _is_repeated(compact) or _is_sequence(compact) or len(set(compact)) <= 3:
        return "pattern"
    name = username.casefold()
    parts = [name, *(p for p in re.split(r"[._@\-]+", name) if len(p) >= MIN_NAME_PART)]
    if any(part and part in compact for part in parts):
        return "name"
    return None


def refusal(password: str, username: str) -> str | None:
    """The message refusing the password, or None when it may be used."""
    why = weakness(password, username)
    return WORDS[why] if why else None
