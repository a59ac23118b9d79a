"""Which rules can match a piece of text: every needle found in one pass.

Each rule names literals one of which every match contains; a rule is only run on text holding
one. With a hundred rules, testing each literal with ``in`` costs more than all the regex work,
so the literals are found together by an Aho-Corasick automaton (``ahocorasick-rs``, one pass in
Rust). Two-letter needles that occur in every log ("ac", "sk", "s.") would flood the automaton
with matches, so those few are tested with ``in``.
"""

from __future__ import annotations

from collections.abc import Sequence

import ahocorasick_rs

_SHORT = 2


class NeedleIndex:
    """Finds which of a fixed set of lower-case literals occur in a text."""

    def __init__(self, needles: Sequence[str]) -> None:
        unique = sorted(set(needles))
        self._short = tuple(n for n in unique if len(n) <= _SHORT)
        self._long = [n for n in unique if len(n) > _SHORT]
        self._automaton = ahocorasick_rs.AhoCorasick(self._long)

    def present(self, lowered: str) -> frozenset[str]:
        """The needles that occur in ``lowered`` (already lower-cased)."""
        try:
            hits = self._automaton.find_matches_as_indexes(lowered, overlapping=True)
        except UnicodeEncodeError:
            # Undecodable bytes kept as lone surrogates (surrogateescape) cannot cross into Rust;
            # no needle holds one, so "?" in their place finds the same needles.
            clean = lowered.encode("utf-8", "replace").decode("utf-8")
            hits = self._automaton.find_matches_as_indexes(clean, overlapping=True)
        found = {self._long[i] for i, _, _ in hits}
        found.update(n for n in self._short if n in lowered)
        return frozenset(found)
