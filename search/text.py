"""Folding text for search, the same way on both databases: what the index stores, what a
query is turned into, and how a snippet finds the query's words in the original text.

``fold`` lowers (``casefold``: ``ß`` becomes ``ss``) and drops diacritics (``ü`` becomes
``u``, ``é`` ``e``, Cyrillic ``ё`` the plain letter), so a visitor typing without diacritics
finds the accented record and the other way round. Scripts without diacritics (Chinese)
pass through unchanged.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: The folded text of an entry (title, then body) is cut to this many characters: a long
#: résumé PDF is searched in its first pages, and no recheck reads a whole book.
TEXT_CHARS = 8000
#: Words of the vocabulary that the typo step looks in (shorter or longer ones are left out:
#: too short to misspell, or a run of Chinese characters without spaces).
WORD_MIN, WORD_MAX = 4, 32

_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
                        "\u3099\u309a]")
_WORD = re.compile(r"[^\W\d_]+")


def fold(text: str) -> str:
    """``text`` lowered and without diacritics."""
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


def entry_text(title: str, body: str) -> str:
    """What the index holds for an entry: title, a newline, body; folded, capped at
    TEXT_CHARS (the newline lets the ranking tell the title from the body)."""
    title = title.replace("\n", " ")
    return fold(f"{title}\n{body}"[:TEXT_CHARS + 200])[:TEXT_CHARS]


def head_text(title: str) -> str:
    """The folded title, as the ranking compares it with the query."""
    return fold(title.replace("\n", " "))


def words_of(text: str) -> set[str]:
    """The vocabulary words of a folded text (letters only, WORD_MIN..WORD_MAX long)."""
    return {w for w in _WORD.findall(text) if WORD_MIN <= len(w) <= WORD_MAX}


_LATIN = frozenset("abcdefghijklmnopqrstuvwxyz")
#: Folded Cyrillic letters (``й`` and ``ё`` fold to their plain letters).
_CYRILLIC = frozenset(chr(c) for c in range(0x430, 0x450)) - {"й"}


def edits(word: str) -> set[str]:
    """Every string one edit away from a folded ``word``: a letter left out, added or changed,
    or two neighbours swapped. Letters added or changed are drawn from the word's script
    (Latin, Cyrillic) and from the word itself (any other script)."""
    letters = set(word)
    if letters & _LATIN:
        letters |= _LATIN
    if letters & _CYRILLIC:
        letters |= _CYRILLIC
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in letters}
    out |= {a + c + b for a, b in splits for c in letters}
    out.discard(word)
    return out


def trigrams(word: str) -> set[str]:
    """A folded word's trigrams, with a space before and after it as word edges."""
    word = f" {word} "
    return {word[i:i + 3] for i in range(len(word) - 2)}


def similarity(a: str, b: str) -> float:
    """Shared trigrams over all trigrams of the two words (0..1)."""
    ta, tb = trigrams(a), trigrams(b)
    return len(ta & tb) / len(ta | tb) if ta and tb else 0.0


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    return fold(char)


def folded_map(text: str) -> tuple[str, list[int]]:
    """``text`` folded, with the index in ``text`` of each folded character."""
    folded = fold(text)
    if len(folded) == len(text) and not _COMBINING.search(text):
        # No character folded to more or fewer than one (the common case): one to one.
        return folded, list(range(len(text)))
    out: list[str] = []
    where: list[int] = []
    for index, char in enumerate(text):
        piece = char if char.isascii() and not char.isupper() else _fold_char(char)
        out.append(piece)
        where.extend([index] * len(piece))
    return "".join(out), where
