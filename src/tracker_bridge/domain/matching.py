"""Known-defect matching: is this error message a defect the tracker already knows?

A :class:`Matcher` holds the known defects. :meth:`Matcher.match` decides, for one message:

1. **fingerprint** - the message's fingerprint key (see :mod:`tracker_bridge.domain.fingerprint`)
   is one a defect was already matched under: that defect, score 1.
2. **similar** - otherwise the known template most similar to the message, if its score reaches
   the threshold (:data:`DEFAULT_THRESHOLD`).
3. **new** - otherwise a new defect. Candidates close to the threshold are still listed, best first,
   with their scores, so a person can say "seen before".

Similarity is positional, in the manner of Drain: only templates with the same number of tokens
are compared, token by token. A position scores

- 1 when the tokens are equal, or the known template learnt a variable there;
- 0.5 when they differ only in values or punctuation (the same constant letters once variables are
  taken out: ``rhost=<*>`` / ``rhost=``), or when two plain words differ right after a word that
  introduces a name (``for user alice`` / ``for user bob``, see :data:`NAME_KEYS`);
- 0 otherwise, and that is a *hard* mismatch: two different constant texts (``Started`` /
  ``Paused``, ``HTTPS`` / ``SOCKS5``, ``rpc.statd`` / ``hcid``) name different events far more
  often than they name values, so each hard mismatch also halves the score.

The score is the mean over positions (halved per hard mismatch), in [0, 1]. With the default
threshold of 0.8 a message one word away from a known defect is *new* but listed as a close
candidate (about 40%), while a message differing only in values matches.

Known templates are indexed by token count and by (position, constant token), so a match looks at
the few templates that share rare tokens with the message, not at every defect in turn.

**Persisted vs in-process state.** The tracker keeps, per defect, only its first message and the
fingerprint keys it was matched under; :meth:`Matcher.add` rebuilds exactly that. Within one
process, :meth:`Matcher.learn` also merges the template (positions that differ become variables),
which is what :class:`StreamGrouper` (``bridge fingerprint --stream``) relies on. The two agree on
every message seen before (exact fingerprint); on unseen messages the in-process matcher is a
little more permissive, because its templates are more general.
"""

from __future__ import annotations

import heapq
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from tracker_bridge.domain.alignment import (
    BASE,
    containment,
    resource_state,
    unaligned,
    upper_bound,
    words,
    wrapped,
)
from tracker_bridge.domain.fingerprint import (
    WILDCARD,
    Fingerprint,
    event_fingerprints,
    fingerprint,
    is_variable,
)


def event_keys(message: str) -> tuple[str, ...]:
    """The fingerprint keys the matcher files ``message`` under: its identifying line's first,
    then every other line of its event. A correction (``move``, ``merge``) moves all of them."""
    return tuple(dict.fromkeys(fp.key for fp in event_fingerprints(message)))


def _names_a_service(known: Sequence[str], seen: Sequence[str]) -> bool:
    """Whether the words before a wrapped phrase hold a data service's port: that prefix names
    the dependency (``dial tcp <*>:5432: read: connection reset by peer``), it is no wrapper."""
    short, long = (known, seen) if len(known) <= len(seen) else (seen, known)
    return any(word in SERVICE_PORTS for word in long[: len(long) - len(short)])


def _sentence_inside(a: Sequence[str], b: Sequence[str]) -> float:
    """Score of the shorter template found as a whole sentence (its last token ends with a full
    stop) in one run of tokens inside the longer, with more text after it, else 0.

    That is a note appended to a message (``Insufficient cpu. preemption: ...``, an alert's
    runbook sentence): what follows a full stop says nothing about which defect it is, so it is
    not counted; a prefix is scored as a wrapper's. Words appended to a phrase without a full stop
    are left undecided (``... detected and corrected`` / ``... over 30 seconds`` are two events).
    """
    short, long = (a, b) if len(a) < len(b) else (b, a)
    if len(short) < MIN_RUN or len(short) >= len(long) or not short[-1].endswith("."):
        return 0.0
    if sum(not is_variable(t) for t in short) < MIN_RUN:
        return 0.0
    first, run = short[0], tuple(short)
    # a run ending the longer is a wrapper's shape, decided there
    for start in range(len(long) - len(short)):
        if long[start] == first and tuple(long[start : start + len(short)]) == run:
            if start and _opens_with_variable(short):
                return 0.0
            phrase = len(words(short))
            return BASE + (1 - BASE) * phrase / max(len(words(long[:start])) + phrase, 1)
    return 0.0


def _ends_sentence(tokens: Sequence[str]) -> bool:
    return bool(tokens) and tokens[-1].endswith(".")


MIN_RUN = 3
"""Constant tokens a sentence needs to be recognised inside a longer message."""


def _opens_with_variable(tokens: Sequence[str]) -> bool:
    """Whether the template starts with a variable: a prefix there may be its value, no wrapper."""
    return bool(tokens) and tokens[0] == WILDCARD


DEFAULT_THRESHOLD = 0.8
"""Minimum similarity for a message to be called a known defect without a fingerprint match."""

CLOSE_MARGIN = 0.1
"""A decision within this distance of the threshold, or between two candidates, is "close"."""

MAX_CANDIDATES = 5

NAME_KEYS = frozenset(
    {
        "user", "users", "username", "account", "host", "hostname", "owner", "login",
        "service", "table", "database", "device", "job", "queue", "topic", "intent", "pod",
        "container", "interface", "volume", "bucket", "group", "role", "schema", "namespace",
        "deployment", "tenant", "project", "cluster", "node",
    }
)  # fmt: skip
"""Nouns after which a name follows (``for user alice``, ``on table orders_archive``): the name
may differ from one sighting to the next without making another defect."""

BOOLEANS = frozenset({"true", "false", "null", "none", "nil"})
"""Flag values: ``retry=true`` / ``retry=false`` is one slot with two values."""

_PUNCT = ".,;:!?()[]{}<>\"'`"
"""Candidates reported with a match."""

_SCORED_PER_MATCH = 64
"""Templates scored exactly per match, taken from the most promising by index hits."""
_COMMON_POSTING = 2000
"""Postings larger than this are skipped when rarer tokens of the message are available."""
_LEAST_ACROSS = 1e-6
"""Templates of other token counts scoring less are not listed (see ``alignment.containment``)."""
_SCORED_ACROSS = 32
"""Templates of other token counts aligned per match, taken from the most shared words."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A known defect a message resembles, with how much (``score`` in [0, 1])."""

    key: str
    template: str
    score: float


@dataclass(frozen=True, slots=True)
class Match:
    """The decision for one message, and what it was based on."""

    key: str | None
    matched_by: Literal["fingerprint", "similar", "new"]
    fingerprint: Fingerprint
    score: float
    candidates: tuple[Candidate, ...]
    threshold: float = DEFAULT_THRESHOLD

    @property
    def close(self) -> bool:
        """Whether a person should double-check this decision.

        True when the best score is within :data:`CLOSE_MARGIN` of the threshold (either side),
        or when the two best candidates both pass the threshold and are within that margin of
        each other. Never true for an exact fingerprint match.
        """
        if self.matched_by == "fingerprint" or not self.candidates:
            return False
        best = self.candidates[0].score
        if self.threshold / 2 <= best < self.threshold + CLOSE_MARGIN:
            return True
        if len(self.candidates) > 1:
            second = self.candidates[1].score
            return second >= self.threshold and best - second < CLOSE_MARGIN
        return False


@dataclass(slots=True)
class _Group:
    key: str
    message: str
    tokens: list[str]
    fingerprints: set[str] = field(default_factory=set)
    learned: set[int] = field(default_factory=set)
    words: tuple[str, ...] = ()
    own: str = ""
    """The fingerprint key of the message the template was made from."""

    @property
    def template(self) -> str:
        return " ".join(self.tokens)


@dataclass(slots=True)
class _Bucket:
    """The templates of one token count."""

    postings: dict[tuple[int, str], set[str]] = field(default_factory=dict)
    no_constants: set[str] = field(default_factory=set)


def _is_word(token: str) -> bool:
    """A plain word: letters only (around punctuation), not an identifier like ``fooBar``."""
    core = token.strip(_PUNCT)
    return core.isalpha() and (core.islower() or core.isupper() or core[1:].islower())


_NAME = re.compile(r"[A-Za-z][A-Za-z_.-]*")


def _is_name(token: str) -> bool:
    """A name without digits, quoted or not: ``alice``, ``'orders_archive'``, ``nightly-backup``."""
    return _NAME.fullmatch(token.strip(_PUNCT)) is not None


def _skeleton(token: str) -> str:
    """The constant letters and digits of a token: ``LOGIN(uid=<*>)`` -> ``LOGINuid``."""
    return "".join(ch for ch in token.replace(WILDCARD, " ") if ch.isalnum())


SERVICE_PORTS = frozenset(
    {
        "1433",
        "1521",
        "2181",
        "2379",
        "3306",
        "5432",
        "5672",
        "6379",
        "7000",
        "8200",
        "9042",
        "9092",
        "9200",
        "11211",
        "27017",
    }
)
"""Ports of data services (SQL Server, Oracle, ZooKeeper, etcd, MySQL, PostgreSQL, RabbitMQ, Redis,
Cassandra, Vault, Kafka, Elasticsearch, memcached, MongoDB): a different one is another dependency."""

_PORT = re.compile(r"<\*>:(\d+)")


def _port_mismatch(known: str, seen: str) -> tuple[float, bool, str] | None:
    """Tokens that differ only in a service port: hard for a data service's port, else a value."""
    ports = _PORT.findall(known), _PORT.findall(seen)
    if not (ports[0] or ports[1]) or _PORT.sub("", known) != _PORT.sub("", seen):
        return None
    if SERVICE_PORTS.intersection(ports[0]) or SERVICE_PORTS.intersection(ports[1]):
        return 0.0, True, "a data service's port: another dependency"
    return 0.5, False, "another port"


@lru_cache(maxsize=1 << 14)
def _pattern(token: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in token.split(WILDCARD)), re.DOTALL)


def _fits(pattern: str, token: str) -> bool:
    """Whether ``token`` is what ``pattern`` (a masked token) shows, its variables standing for
    anything: ``chdir(pwd)`` fits ``chdir(<*>)``, ``bglio<*>`` fits ``<*>``. Not after ``=``: a
    bare word there is an enum (``tty=NODEVssh``), kept on purpose, not a value."""
    if pattern == WILDCARD or WILDCARD not in pattern or "=" + WILDCARD in pattern:
        return False
    return bool(_pattern(pattern).fullmatch(token))


def _position_score(known: str, seen: str, learned: bool, before: str) -> tuple[float, bool, str]:
    """Score of one position, whether it is a hard mismatch, and why (for ``explain``)."""
    if known == seen:
        return 1.0, False, "equal"
    if learned:
        return 1.0, False, "a variable learnt from earlier sightings"
    if (port := _port_mismatch(known, seen)) is not None:
        return port
    if (
        _fits(known, seen)
        or _fits(seen, known)
        or (WILDCARD in known and WILDCARD in seen and WILDCARD in (known, seen))
    ):
        # A slot that held a value with digits once and a plain word (or another value) now.
        return 0.5, False, "a value where the other has a variable"
    if _skeleton(known) == _skeleton(seen):
        # Same constant text, different values or punctuation: "rhost=<*>" / "rhost=".
        return 0.5, False, "same words, other values or punctuation"
    if before.strip(_PUNCT).lower() in NAME_KEYS and _is_name(known) and _is_name(seen):
        return 0.5, False, f"another name after {before.strip(_PUNCT)!r}"
    k_key, _, k_value = known.rpartition("=")
    s_key, _, s_value = seen.rpartition("=")
    if (
        k_key == s_key
        and k_value.strip(_PUNCT).lower() in BOOLEANS
        and s_value.strip(_PUNCT).lower() in BOOLEANS
    ):
        return 0.5, False, "another flag value"  # "retry=true" / "retry=false", "true" / "false"
    # Different constant text: "Started" / "Paused", "HTTPS" / "<*>", "(uid=<*>)" / "LOGIN(uid=<*>)".
    return 0.0, True, "different constant text: another event (halves the score)"


def similarity(
    known: Sequence[str], seen: Sequence[str], learned: frozenset[int] | set[int] = frozenset()
) -> float:
    """How alike a known template and a message's masked tokens are, in [0, 1].

    The mean of the per-position scores (see the module docstring), halved for every position
    where two different plain words stand. Templates of different lengths score 0. ``learned``
    are positions of ``known`` generalised by :meth:`Matcher.learn`: they accept anything.
    """
    n = len(known)
    if n != len(seen):
        return 0.0
    if n == 0:
        return 1.0
    total = 0.0
    hard = 0
    before = ""
    for pos, (k, s) in enumerate(zip(known, seen, strict=True)):
        score, is_hard, _ = _position_score(k, s, pos in learned, before)
        total += score
        hard += is_hard
        before = k if k == s else ""
    return total / n * 0.5**hard


@dataclass(frozen=True, slots=True)
class Difference:
    """One position where a known template and a message differ, as scored."""

    position: int
    known: str
    seen: str
    score: float
    hard: bool
    why: str


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a candidate scored what it did (``bridge fingerprint --explain``).

    ``shape`` is ``fingerprint`` (a recorded key), ``in place`` (same token count, compared
    position by position: ``differences``), ``wrapper`` (the shorter phrase ends the longer one),
    ``sentence`` (the shorter, a whole sentence, is found inside the longer), ``resource state`` (both end in the same state text), or ``inside`` (found in order with
    ``missing`` words; listed at most just under the threshold).
    """

    key: str
    shape: Literal["fingerprint", "in place", "wrapper", "sentence", "resource state", "inside"]
    template: str
    differences: tuple[Difference, ...] = ()
    missing: tuple[str, ...] = ()
    via: str | None = None
    """The merged duplicate (or the defect a message was moved from) whose template scored."""


def differences(
    known: Sequence[str], seen: Sequence[str], learned: frozenset[int] | set[int] = frozenset()
) -> tuple[Difference, ...]:
    """The positions :func:`similarity` did not score 1, with each one's score and reason."""
    if len(known) != len(seen):
        return ()
    out = []
    before = ""
    for pos, (k, s) in enumerate(zip(known, seen, strict=True)):
        score, hard, why = _position_score(k, s, pos in learned, before)
        if score < 1.0:
            out.append(Difference(pos, k, s, score, hard, why))
        before = k if k == s else ""
    return tuple(out)


class Matcher:
    """Known defects, indexed for matching error messages against them."""

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        """Create an empty matcher; ``threshold`` is the minimum score of a similar match."""
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be within [0, 1], got {threshold!r}")
        self.threshold = threshold
        self._groups: dict[str, _Group] = {}
        self._by_fingerprint: dict[str, str] = {}
        self._buckets: dict[int, _Bucket] = {}
        self._by_word: dict[str, set[str]] = {}
        self._same_as: dict[str, str] = {}
        self._recorded: set[str] = set()
        """Keys a correction or a match recorded on a defect (not only derived from its first
        message): those win over a template's own key wherever defects were added from."""

    def __len__(self) -> int:
        """Number of known defects."""
        return len(self._groups)

    def add(
        self,
        key: str,
        message: str,
        fingerprints: Iterable[str] = (),
        *,
        examples: Iterable[str] = (),
        same_as: str | None = None,
    ) -> None:
        """Index a known defect from what the tracker holds about it.

        ``message`` is its first message, ``fingerprints`` every fingerprint key recorded on it
        (matched under, or lines of the same event), ``examples`` further messages of it (its
        observations), and ``same_as`` the defect it was merged into. That is the whole matching
        state: a matcher rebuilt from the tickets decides as the one that recorded them.
        Adding a key again learns the message into that defect instead.
        """
        primary, *companions = event_fingerprints(message)
        self._add(key, message, primary)
        group = self._groups[key]
        for fp in companions:  # other lines of the event: recognised exactly, never generalised
            self._remember(group, fp.key, recorded=False)
        for fp_key in fingerprints:
            self._remember(group, fp_key)
        for example in examples:
            self.learn(key, example)
        if same_as is not None:
            self.merge(key, same_as)

    def move(self, message: str, source: str, target: str) -> tuple[str, ...]:
        """Correct a decision: ``message`` belongs to defect ``target``, not ``source``.

        Its fingerprint keys (every line of its event) stop pointing at ``source`` and point at
        ``target``, so the same message lands on ``target`` next time. When ``message`` is the one
        ``source``'s template was made from, messages similar to that template reach ``target``
        too. Returns the keys: the tracker must move them from ``source``'s fingerprints to
        ``target``'s for the correction to outlive this process (see :func:`event_keys`).
        """
        if target not in self._groups:
            raise KeyError(target)
        keys = event_keys(message)
        old = self._groups.get(source)
        for fp_key in keys:
            if old is not None:
                old.fingerprints.discard(fp_key)
        self.learn(target, message)
        for fp_key in keys:
            self._remember(self._groups[target], fp_key)
        return keys

    def merge(self, duplicate: str, survivor: str) -> None:
        """Correct a split: defect ``duplicate`` is ``survivor``.

        Messages matching the duplicate's template or fingerprints now reach ``survivor``; the
        duplicate stays indexed, so both wordings are recognised. The tracker records the merge
        (the duplicate resolved as a duplicate of the survivor) and a rebuild passes ``same_as``.
        """
        if duplicate == survivor:
            return
        root = self._resolve(survivor)
        if root == duplicate:
            raise ValueError(f"{survivor} is already merged into {duplicate}")
        self._same_as[duplicate] = root
        for fp_key, owner in list(self._by_fingerprint.items()):
            if owner == duplicate:
                self._by_fingerprint[fp_key] = root

    def _resolve(self, key: str) -> str:
        seen = {key}
        while key in self._same_as:
            key = self._same_as[key]
            if key in seen:  # a cycle from inconsistent tracker data: stop at a stable key
                break
            seen.add(key)
        return key

    def learn(self, key: str, message: str) -> None:
        """Record that ``message`` belongs to defect ``key``.

        Its fingerprint then matches exactly, and the defect's template is generalised: positions
        where the two differ become variables (templates of another length are left as they are).
        The other lines of a multi-line event are remembered exactly.
        """
        primary, *companions = event_fingerprints(message)
        self._learn(key, message, primary)
        for fp in companions:
            self._remember(self._groups[key], fp.key)

    def _add(self, key: str, message: str, fp: Fingerprint) -> None:
        if key in self._groups:
            self._learn(key, message, fp)
            return
        group = _Group(key=key, message=message, tokens=list(fp.tokens), own=fp.key)
        self._groups[key] = group
        self._remember(group, fp.key, recorded=False)
        self._index(group)
        self._index_words(group)

    def _learn(self, key: str, message: str, fp: Fingerprint) -> None:
        group = self._groups.get(key)
        if group is None:
            self._add(key, message, fp)
            return
        self._remember(group, fp.key)
        if len(fp.tokens) != len(group.tokens):
            return
        bucket = self._buckets[len(group.tokens)]
        for pos, (known, seen) in enumerate(zip(group.tokens, fp.tokens, strict=True)):
            if known not in (seen, WILDCARD):
                if not is_variable(known):
                    posting = bucket.postings[(pos, known)]
                    posting.discard(key)
                    if not posting:
                        del bucket.postings[(pos, known)]
                group.tokens[pos] = WILDCARD
                group.learned.add(pos)
        if not any(not is_variable(tok) for tok in group.tokens):
            bucket.no_constants.add(key)
        if group.learned:
            for word in set(group.words):
                self._by_word.get(word, set()).discard(key)
            self._index_words(group)

    def _index_words(self, group: _Group) -> None:
        group.words = words(group.tokens)
        for word in set(group.words):
            self._by_word.setdefault(word, set()).add(group.key)

    def match(self, message: str) -> Match:
        """Match ``message``: exactly by fingerprint, else the most similar above threshold, else new.

        Any line of a multi-line event whose fingerprint a defect carries is an exact match.
        """
        primary, *companions = event_fingerprints(message)
        for fp in companions:
            if fp.key in self._by_fingerprint and primary.key not in self._by_fingerprint:
                return self._match(fp, primary)
        return self._match(primary)

    def _match(self, fp: Fingerprint, shown: Fingerprint | None = None) -> Match:
        known = self._by_fingerprint.get(fp.key)
        fp = shown or fp
        if known is not None:
            known = self._resolve(known)
            group = self._groups[known]
            return Match(
                key=known,
                matched_by="fingerprint",
                fingerprint=fp,
                score=1.0,
                candidates=(Candidate(known, group.template, 1.0),),
                threshold=self.threshold,
            )
        candidates = self._candidates(fp)
        if candidates and candidates[0].score >= self.threshold:
            best = candidates[0]
            return Match(best.key, "similar", fp, best.score, candidates, self.threshold)
        score = candidates[0].score if candidates else 0.0
        return Match(None, "new", fp, score, candidates, self.threshold)

    def explain(self, message: str) -> list[str]:
        """Human-readable lines saying how ``message`` was masked, scored and decided."""
        from tracker_bridge.domain.explain import explain

        result = self.match(message)
        return explain(message, result, self.reasons(result))

    def reasons(self, result: Match) -> tuple[Reason, ...]:
        """Why each of ``result``'s candidates scored what it did, in the same order."""
        return tuple(self.why(result, c) for c in result.candidates)

    def why(self, result: Match, candidate: Candidate) -> Reason:
        """Why ``candidate`` scored what it did against ``result``'s message."""
        fp = result.fingerprint
        if result.matched_by == "fingerprint" and candidate.key == result.key:
            return Reason(candidate.key, "fingerprint", candidate.template)
        # The template that scored may be a merged duplicate's, or a source's moved message.
        speaking = [k for k in self._groups if self._owner(k) == candidate.key]
        group = self._groups[
            next(
                (k for k in speaking if self._groups[k].template == candidate.template),
                candidate.key if candidate.key in self._groups else speaking[0],
            )
        ]
        via = group.key if group.key != candidate.key else None
        if len(group.tokens) == len(fp.tokens):
            positional = similarity(group.tokens, fp.tokens, group.learned)
            if abs(positional - candidate.score) < 1e-3:
                diffs = differences(group.tokens, fp.tokens, group.learned)
                return Reason(candidate.key, "in place", group.template, diffs, via=via)
        known, seen = group.words, words(fp.tokens)
        if resource_state(known, seen):
            return Reason(candidate.key, "resource state", group.template, via=via)
        shorter = group.tokens if len(known) <= len(seen) else fp.tokens
        if (
            wrapped(known, seen)
            and not _opens_with_variable(shorter)
            and not _names_a_service(known, seen)
        ):
            return Reason(candidate.key, "wrapper", group.template, via=via)
        if _sentence_inside(group.tokens, fp.tokens):
            return Reason(candidate.key, "sentence", group.template, via=via)
        missing = unaligned(known, seen)
        return Reason(candidate.key, "inside", group.template, missing=missing, via=via)

    def _remember(self, group: _Group, fp_key: str, *, recorded: bool = True) -> None:
        """Point ``fp_key`` at ``group``. A key only derived from a defect's message
        (``recorded=False``) never takes over a key recorded on another defect: after a move the
        source's first message may be the moved one, and the tracker says where it belongs now."""
        owner = self._by_fingerprint.get(fp_key)
        if not recorded and owner not in (None, group.key) and fp_key in self._recorded:
            return
        if recorded:
            self._recorded.add(fp_key)
        group.fingerprints.add(fp_key)
        self._by_fingerprint[fp_key] = group.key

    def _owner(self, key: str) -> str:
        """The defect a group's template speaks for: its own, or the one its first message was
        moved to (that message's key recorded there), each followed through merges."""
        own = self._groups[key].own
        moved = self._by_fingerprint.get(own) if own in self._recorded else None
        return self._resolve(moved if moved is not None and moved in self._groups else key)

    def _index(self, group: _Group) -> None:
        bucket = self._buckets.setdefault(len(group.tokens), _Bucket())
        constant = False
        for pos, tok in enumerate(group.tokens):
            if not is_variable(tok):
                bucket.postings.setdefault((pos, tok), set()).add(group.key)
                constant = True
        if not constant:
            bucket.no_constants.add(group.key)

    def _candidates(self, fp: Fingerprint) -> tuple[Candidate, ...]:
        scored = self._same_length(fp)
        best_here = max(scored.values(), default=0.0)
        if best_here < self.threshold:
            for key, score in self._across(fp, len(fp.tokens)).items():
                scored[key] = max(score, scored.get(key, 0.0))
        resolved: dict[str, tuple[float, str]] = {}
        for key, score in scored.items():
            root = self._owner(key)
            if root not in resolved or score > resolved[root][0]:
                resolved[root] = (score, self._groups[key].template)
        best = sorted(resolved.items(), key=lambda kv: (-kv[1][0], kv[0]))[:MAX_CANDIDATES]
        return tuple(Candidate(key, template, round(score, 4)) for key, (score, template) in best)

    def _same_length(self, fp: Fingerprint) -> dict[str, float]:
        bucket = self._buckets.get(len(fp.tokens))
        if bucket is None:
            return {}
        postings = [
            posting
            for pos, tok in enumerate(fp.tokens)
            if (posting := bucket.postings.get((pos, tok))) is not None
        ]
        postings.sort(key=len)
        rare = [p for p in postings if len(p) <= _COMMON_POSTING] or postings[:1]
        hits: Counter[str] = Counter()
        for posting in rare:
            hits.update(posting)
        # Hits plus the template's variables bound the score from above: rank on that.
        ranked = heapq.nlargest(
            _SCORED_PER_MATCH,
            hits,
            key=lambda k: (hits[k] + self._groups[k].tokens.count(WILDCARD), k),
        )
        ranked.extend(sorted(bucket.no_constants)[:_SCORED_PER_MATCH])
        return {
            key: similarity(self._groups[key].tokens, fp.tokens, self._groups[key].learned)
            for key in dict.fromkeys(ranked)
        }

    def _across(self, fp: Fingerprint, length: int) -> dict[str, float]:
        """Templates of other token counts sharing words with ``fp``, scored by containment."""
        seen = words(fp.tokens)
        postings = [p for w in set(seen) if (p := self._by_word.get(w))]
        if not postings:
            return {}
        # Only rare words lead to templates of another length: a word shared with thousands of
        # defects ("failed", "error") says nothing about which one this is.
        rare = [p for p in postings if len(p) <= _COMMON_POSTING]
        skipped = len(postings) - len(rare)
        hits: Counter[str] = Counter()
        for posting in rare:
            hits.update(posting)
        groups = self._groups
        ranked = heapq.nlargest(
            _SCORED_ACROSS, hits, key=lambda k: (hits[k] / max(len(groups[k].words), 1), k)
        )
        # Only a wrapper (a prefix before the whole phrase) is decided by alignment; any other
        # shape is listed as a candidate, just under the threshold. For templates of the same
        # token count, positional similarity stands unless the shape is a wrapper's.
        ceiling = max(self.threshold - CLOSE_MARGIN, 0.0)
        scored: dict[str, float] = {}
        kept: list[float] = []  # the best scores so far, to skip alignments that cannot place
        for key in sorted(ranked, key=lambda k: (-hits[k], k)):
            known = groups[key].words
            # Words skipped as common may still be shared: count them in, so the bound holds.
            shared = hits[key] + skipped
            if (
                len(kept) >= MAX_CANDIDATES
                and upper_bound(known, seen, shared) <= kept[0]
                and not _ends_sentence(groups[key].tokens)  # a sentence inside may score more
                and not _ends_sentence(fp.tokens)
            ):
                continue
            shorter = groups[key].tokens if len(known) <= len(seen) else fp.tokens
            is_wrapped = (
                wrapped(known, seen)
                and not _opens_with_variable(shorter)
                and not _names_a_service(known, seen)
            )
            state = resource_state(known, seen) or _sentence_inside(groups[key].tokens, fp.tokens)
            if len(groups[key].tokens) == length and not (is_wrapped or state):
                continue
            if state:
                score = state
            else:
                score = containment(known, seen)
                if score < _LEAST_ACROSS:
                    continue
                score = score if is_wrapped else min(score, ceiling)
            scored[key] = score
            heapq.heappush(kept, score)
            if len(kept) > MAX_CANDIDATES:
                heapq.heappop(kept)
        return scored


class StreamGrouper:
    """Online grouping of a stream of messages, as ``bridge fingerprint --stream`` does it.

    Each message is matched against the groups so far; a new one founds a group keyed by its
    fingerprint key, a similar one is learnt into its group. The returned key is the group's.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD) -> None:
        """Start with no groups."""
        self.matcher = Matcher(threshold)

    def group(self, message: str) -> str:
        """The group key of ``message`` (founding or generalising a group as needed)."""
        fp = fingerprint(message)
        known = self.matcher._by_fingerprint.get(fp.key)
        if known is not None:  # the common case in a stream: no candidates to build
            return self.matcher._resolve(known)
        result = self.matcher._match(fp)
        if result.key is None:
            self.matcher._add(fp.key, message, fp)
            return fp.key
        if result.matched_by == "similar":
            self.matcher._learn(result.key, message, fp)
        return result.key
