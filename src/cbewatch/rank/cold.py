"""The cold start: the lexicon's phrases and the config's keywords found in an item,
weighted by concept and by where they occur, and its likeness to the field examples.
It never reads the decisions: it is what ranking knows before any curator has decided.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from ..config import Topic
from ..lexicon import (
    FIELD_CONCEPTS,
    FIELD_FAMILY,
    OTHER_SENSES,
    SCHOOL_INDEX,
    UNAMBIGUOUS_WORDS,
    Concept,
    PhraseIndex,
    stems,
    variants,
    word_count,
)
from .examples import (
    ELSEWHERE,
    FieldExamples,
    classifier_signature,
    field_examples,
    heading_words,
)
from .kin import Kin
from .tuning import DEFAULT_TUNING, Tuning
from .values import Ranking, RankInput


@dataclass(frozen=True)
class _Phrase:
    weight: float  # relevance evidence (negative: the field's words in another sense)
    topics: tuple[str, ...]  # sections this phrase points to
    ambiguous: bool  # counts only in a text about schools
    size: float = 1.0  # a weak one-word phrase counts less (Tuning.weak_phrase_size)
    family: str = "keywords"  # the lexicon's concept family (a config keyword: "keywords")
    keyword: bool = False  # one of the config's topic keywords: the operator's own words

    @property
    def needs_school(self) -> bool:
        """An ambiguous word of the field counts only in a text about schools."""
        return self.ambiguous and self.weight > 0

    def vote(self, tuning: Tuning) -> float:
        """How much of its evidence goes to its topics."""
        return tuning.keyword_topic_boost if self.keyword else 1.0


@dataclass
class Evidence:
    """What the cold start reads in one item: the phrases found (relevance, against, per
    topic and per concept family, and the words why) and its likeness to the examples."""

    words: list[str] = field(default_factory=list)  # the item's stems, the title twice
    heading: list[str] = field(default_factory=list)  # title's stems twice, description's
    relevance: float = 0.0
    against: float = 0.0
    topics: dict[str, float] = field(default_factory=dict)
    families: dict[str, float] = field(default_factory=dict)  # evidence per concept family
    reasons: dict[str, float] = field(default_factory=dict)
    # The sections the operator's own words decide, which the built-in knowledge never
    # overrules: those whose configured keyword the title's label carries, else the title,
    # else the lede (the description, the text's first sentence) unless the title speaks
    # of another section (`_foremost`). `lead_says`: every section a keyword in the title
    # or lede names. `lead_in_field`: one of those is a keyword that is evidence of the field
    # too (a one-word keyword in a text with no school word names a section, but is not;
    # nor is a lexicon phrase that carries a keyword, as "new report" carries "report").
    lead: tuple[str, ...] = ()
    lead_says: dict[str, tuple[str, str]] = field(default_factory=dict)  # where, which word
    lead_in_field: bool = False
    in_field: bool = True  # the built-in knowledge applies (else only the keywords speak)
    # Another field's config only (no built-in knowledge of it): how much the item is like
    # the stored items that carry each section's keywords (`ColdStart.widen`, `Kin`).
    kin: dict[str, float] = field(default_factory=dict)
    # How much the item is like the field examples of each family ("elsewhere": not the
    # field), and the same mapped to the config's topics; empty until ColdStart.read.
    likeness: dict[str, float] = field(default_factory=dict)
    like_topics: dict[str, float] = field(default_factory=dict)
    tuning: Tuning = DEFAULT_TUNING  # the ColdStart's, which read this

    @property
    def phrase_score(self) -> float:
        """The phrases' evidence in 0..1, never 1: more evidence always ranks higher."""
        evidence = max(0.0, self.relevance - self.against)
        return evidence / (evidence + self.tuning.saturation)

    @property
    def score(self) -> float:
        if self.kin:  # what the keywords miss, the likeness to their items may tell
            kin = self.tuning.kin_weight * max(self.kin.values())
            return self.phrase_score + (1.0 - self.phrase_score) * kin
        if not self.likeness:
            return self.phrase_score
        like_field = temper(1.0 - self.likeness.get(ELSEWHERE, 0.0), self.tuning.score_temper)
        weight = self.tuning.likeness_weight
        return (1 - weight) * self.phrase_score + weight * like_field

    def topic_shares(self) -> dict[str, float]:
        """The lexicon's topic evidence as shares, plus the examples' likeness; only the
        `lead` sections when there are any."""
        total = sum(self.topics.values())
        sure = 1.0 - math.exp(-total / self.tuning.topic_saturation)  # one weak word: weak vote
        shares = {t: sure * v / total for t, v in self.topics.items()} if total > 0 else {}
        for topic, likeness in self.like_topics.items():
            shares[topic] = shares.get(topic, 0.0) + self.tuning.likeness_topic_weight * likeness
        for topic, kin in self.kin.items():
            shares[topic] = shares.get(topic, 0.0) + self.tuning.kin_weight * kin
        if self.lead:  # the built-in knowledge only weighs the operator's candidates
            shares = {t: shares.get(t, 0.0) for t in self.lead}
        return shares

    def top_topic(self) -> str | None:
        if not (self.topics or self.kin or self.lead) or self.unfiled:  # no phrase of any
            return None  # section, nor like their items, or not the field's news: none
        shares = self.topic_shares()
        return max(shares.items(), key=lambda pair: (pair[1], pair[0]))[0]

    def why(self, topic: str | None, learned: Sequence[str] = (), limit: int = 4) -> str:
        """What pushed the item up or down and where its section comes from, in sentences
        a curator reads: "Section: Policy — title says 'state policy'. Field words:
        mastery, credit. Off-field words: cellist." `learned`: the curators' model's
        strongest reasons (words, "source: NAME")."""
        said = [_section_said(topic, self)] if topic else []
        ordered = sorted(self.reasons.items(), key=lambda pair: (-abs(pair[1]), pair[0]))
        up = [p for p, w in ordered[:limit] if w > 0]
        down = [p for p, w in ordered[:limit] if w < 0]
        if up:
            said.append(f"{'Field words' if self.in_field else 'Keywords'}: {', '.join(up)}.")
        if down:
            said.append(f"Off-field words: {', '.join(down)}.")
        if self.outside_field:
            said.append("Reads like news from outside the field.")
        words = [w for w in learned if not w.startswith("source: ") and w not in up]
        sources = [w.removeprefix("source: ") for w in learned if w.startswith("source: ")]
        if words:
            said.append(f"Like items you accepted: {', '.join(words)}.")
        if sources:
            said.append(f"You often accept items from {', '.join(sources)}.")
        return " ".join(said)

    @property
    def unfiled(self) -> bool:
        """News from outside the field gets no section, unless the operator's keywords
        decide one (`lead`) and speak of the field there: their own words file it all the
        same. ("Report: stock markets fall" reads like news from elsewhere, and its
        "report", a one-word keyword in a text with no school word, is no evidence of the
        field: no section.)"""
        return self.outside_field and not (self.lead and self.lead_in_field)

    @property
    def outside_field(self) -> bool:
        """The field examples say clearly that this is news from elsewhere."""
        return self.likeness.get(ELSEWHERE, 0.0) >= self.tuning.clear_likeness


def _section_said(topic: str, found: Evidence) -> str:
    """Why this section: the operator's keyword in the title or lede (when it decided),
    else what the built-in knowledge or the stored items say, else the curators' model
    alone."""
    if topic in found.lead:
        place, keyword = found.lead_says[topic]
        return f"Section: {topic} — {place} says '{keyword}'."
    if found.like_topics.get(topic, 0.0) >= found.tuning.clear_likeness:
        return f"Section: {topic} — reads like its news."
    if found.kin and max(found.kin, key=lambda name: found.kin[name]) == topic:
        return f"Section: {topic} — like the items that name its keywords."
    return f"Section: {topic}."


class ColdStart:
    """The built-in knowledge, mapped onto a config's topics: the lexicon's concept
    families, each owned by the topic whose keywords it shares most, every keyword itself
    (a strong vote for its own topic), and the field examples' classifier (`read`)."""

    def __init__(
        self,
        topics: Sequence[Topic],
        tuning: Tuning = DEFAULT_TUNING,
        data_dir: Path | None = None,  # where the examples' classifier is kept
    ) -> None:
        self.tuning = tuning
        self.data_dir = data_dir
        self.topic_names = tuple(t.name for t in topics)
        self.place_weights = {
            "title": tuning.title_weight,
            "description": tuning.description_weight,
            "text": tuning.text_weight,
        }
        self.phrases: dict[tuple[str, ...], _Phrase] = {}
        self.shown: dict[tuple[str, ...], str] = {}
        keyword_topics = _keyword_topics(topics)
        families: dict[str, list[tuple[str, ...]]] = defaultdict(list)  # each one's keys
        for concept in FIELD_CONCEPTS:
            families[concept.family].extend(k for p in concept.phrases for k in variants(p))
        # the field's own name points to no section: it is in nearly every item of the field
        # (after 60 decisions, topic accuracy on the retired held-out sets 0.939, 0.975,
        # 0.947, 0.919, 0.966, 0.911 when it pointed where the keywords "competency-based
        # education" and the like are; 0.949, 0.980, 0.950, 0.921, 0.966, 0.913 now)
        owners = {
            name: () if name == FIELD_FAMILY else _owner(keys, keyword_topics)
            for name, keys in families.items()
        }
        # The lexicon and the examples know one field: they apply when most of the config's
        # sections are theirs, and a good share of its keywords are the lexicon's phrases.
        # Another field's config is ranked on its own keywords (and then the decisions): the
        # built-in words would only count its news as off-field. (Chess clubs' "coaching"
        # and "new members" claim two of their four sections, but 2 of 28 keywords.)
        claimed = {topic for owner in owners.values() for topic in owner}
        self.knows_field = not topics or (
            len(claimed) >= len(topics) / 2
            and _known_share(topics, {k for keys in families.values() for k in keys})
            >= KNOWN_KEYWORDS
        )
        self.owners = owners if self.knows_field else {}
        concepts = (*FIELD_CONCEPTS, *OTHER_SENSES) if self.knows_field else ()
        for concept in concepts:
            for phrase in concept.phrases:
                self._add(phrase, concept, owners.get(concept.family, ()))
        for key, names in keyword_topics.items():
            known = self.phrases.get(key)
            weight = max(known.weight if known else 0.0, tuning.keyword_weight)
            family = known.family if known else "keywords"
            # in another field, school words say nothing about whether a keyword is meant
            ambiguous = _ambiguous(key) and self.knows_field
            self.phrases[key] = _Phrase(weight, names, ambiguous, family=family, keyword=True)
            self.shown.setdefault(key, _keyword_shown(topics, key))
        self._follow_keywords()
        self.index = PhraseIndex(
            {k: self.shown.get(k, " ".join(k)) for k in self.phrases},
            frozenset(k for k, p in self.phrases.items() if p.keyword),
        )
        self.names_sections = self._names_sections(keyword_topics)
        # what `_weigh` needs of each phrase, looked up once per match
        self.weighing = {
            k: (
                p.weight * p.size,
                p.family,
                p.topics,
                p.vote(tuning),
                p.needs_school,
                self.index.by_key[k],
            )
            for k, p in self.phrases.items()
        }
        self.families = tuple(sorted({p.family for p in self.phrases.values()}))
        self.signature = self._signature()
        self.kin: Kin | None = None  # another field's widened vocabulary (`widen`)

    def widen(self, stored: Sequence[RankInput]) -> None:
        """Another field's config: widen each section's vocabulary from the stored items
        that carry its keywords (`Kin`). The same for every batch ranked against these
        stored items; no effect where the built-in knowledge applies."""
        if not self.knows_field:
            self.kin = Kin.of([self.evidence(i) for i in stored], self.topic_names)

    @property
    def like_families(self) -> tuple[str, ...]:
        """The examples' families (likeness features), none when they do not apply."""
        return self.examples.families if self.knows_field else ()

    @cached_property
    def examples(self) -> FieldExamples:
        """The examples' classifier, on first use only: a command with nothing to rank
        never pays for it (reading the shipped one; training one: seconds)."""
        return field_examples(tuning=self.tuning, data_dir=self.data_dir)

    def _signature(self) -> str:
        """The cold-start evidence is the learned models' features: a model trained on
        another lexicon, other keywords, other examples or other settings is stale. The
        whole Tuning is hashed, so that a setting added to it joins without a thought."""
        table = sorted(
            (k, p.weight, p.topics, p.ambiguous, p.size, p.family, p.keyword)
            for k, p in self.phrases.items()
        )
        settings = sorted(dataclasses.asdict(self.tuning).items())
        signed = (self.topic_names, table, classifier_signature(), settings)
        return hashlib.sha256(repr(signed).encode()).hexdigest()

    def _add(self, phrase: str, concept: Concept, owner: tuple[str, ...]) -> None:
        for key in variants(phrase):
            if key not in self.phrases:  # the first listing wins: strongest within a family
                one_word = _ambiguous(key)
                size = self.tuning.weak_phrase_size if one_word and not concept.strong else 1.0
                ambiguous = one_word or concept.school_only
                self.phrases[key] = _Phrase(concept.weight, owner, ambiguous, size, concept.family)
                self.shown[key] = phrase

    def read(self, items: Sequence[RankInput]) -> list[Evidence]:
        """Each item's phrase evidence, and its likeness to the field examples (one
        batch through the examples' classifier)."""
        evidence = [self.evidence(i) for i in items]
        if evidence and self.kin is not None:
            self.kin.apply(evidence)
        if evidence and self.knows_field:
            # the examples are headlines and summaries: like is compared with like
            examples = self.examples
            likeness = examples.likeness([e.heading for e in evidence])
            for found, row in zip(evidence, likeness, strict=True):
                if row is not None:  # else: no word the examples know, no opinion
                    found.likeness = dict(zip(examples.families, row.tolist(), strict=True))
                    found.like_topics = self._like_topics(found.likeness)
        return evidence

    def _like_topics(self, likeness: dict[str, float]) -> dict[str, float]:
        """Family likeness summed into the config's topics (what is like no topic's
        family, or like news from outside the field, votes for none)."""
        topics: dict[str, float] = defaultdict(float)
        for family, value in likeness.items():
            for topic in self.owners.get(family, ()):
                topics[topic] += value
        return dict(topics)

    def evidence(self, item: RankInput) -> Evidence:
        """The phrase evidence of one item (`read` adds the examples' likeness)."""
        places = {
            "title": stems(item.title),
            "description": stems(item.description),
            "text": stems(item.text[: self.tuning.text_chars]),
        }
        found: dict[tuple[str, ...], float] = defaultdict(float)
        leading: list[tuple[str, tuple[str, ...]]] = []  # (where, phrase) in title and lede
        first = _first_sentence_length(item.text)  # the lede, with the description
        label = _label_length(item.title)
        for place, words in places.items():
            weight = self.place_weights[place]
            for at, key in self.index.find_at(words):
                found[key] += weight
                if place == "title" and at + len(key) <= label:
                    leading.append((LABEL, key))
                elif place != "text":
                    leading.append((place, key))
                elif at + len(key) <= first:
                    leading.append(("first sentence", key))
        words = [*places["title"], *places["title"], *places["description"], *places["text"]]
        about_school = SCHOOL_INDEX.any_in(words)
        evidence = self._weigh(found, about_school, words)
        evidence.lead_says = self._lead(leading)
        evidence.lead_in_field = any(
            self.phrases[key].keyword and not (self.phrases[key].needs_school and not about_school)
            for _, key in leading
        )
        titled = (key for place, key in leading if place in TITLE_PLACES)
        evidence.lead = _foremost(evidence.lead_says, self._topics_of(titled, about_school))
        evidence.in_field = self.knows_field
        # without a description, the text's first words stand in (as a feed's summary)
        summary = places["description"] or places["text"]
        evidence.heading = heading_words(places["title"], summary, self.tuning.summary_words)
        return evidence

    def _topics_of(self, keys: Iterable[tuple[str, ...]], about_school: bool) -> set[str]:
        """The sections the field's phrases among `keys` point to. Weak one-word phrases
        count too: a title that says "parents" or "plan" is about something else than the
        lede's keyword as often as not (topic accuracy on the first held-out set, now
        development data: 0.790 with them, 0.776 without; the corpus and the second set
        the same either way)."""
        found: set[str] = set()
        for key in keys:
            phrase = self.phrases[key]
            if phrase.weight > 0 and not (phrase.needs_school and not about_school):
                found.update(phrase.topics)
        return found

    def _lead(self, leading: list[tuple[str, tuple[str, ...]]]) -> dict[str, tuple[str, str]]:
        """The sections whose keywords are among the phrases of the title and the lede,
        each with where its first keyword is and the keyword (a one-word keyword too in a
        text with no school word: it is no evidence of the field there, but of all the
        sections it is the one the operator's words name)."""
        says: dict[str, tuple[str, str]] = {}
        for place, key in leading:
            for name, keyword in self.names_sections.get(key, ()):
                says.setdefault(name, (place, keyword))
        return says

    def _follow_keywords(self) -> None:
        """A lexicon phrase that contains a configured keyword of its own concept family
        (a variant of it, as "formative assessment" is of "assessment") points where the
        operator put the keyword, not where the family's other phrases point (an operator
        who files "assessment" apart from rubrics and report cards): built-in knowledge
        widens a section's vocabulary, it never moves the operator's word elsewhere."""
        for key, phrase in list(self.phrases.items()):
            if phrase.keyword:
                continue
            followed = sorted(
                {
                    name
                    for part in _parts(key)
                    if (inner := self.phrases.get(part))
                    and inner.keyword
                    and inner.family == phrase.family
                    for name in inner.topics
                }
            )
            if followed:
                self.phrases[key] = dataclasses.replace(phrase, topics=tuple(followed))

    def _names_sections(
        self, keyword_topics: dict[tuple[str, ...], tuple[str, ...]]
    ) -> dict[tuple[str, ...], tuple[tuple[str, str], ...]]:
        """The sections each phrase names by the operator's own words, with the keyword: a
        keyword names its sections; a longer phrase of the lexicon that contains one names
        those of its sections the phrase points to as well ("research brief" carries
        "research"; "progress report" points elsewhere than "report", and names none)."""
        names: dict[tuple[str, ...], tuple[tuple[str, str], ...]] = {}
        for key, phrase in self.phrases.items():
            if phrase.keyword:
                names[key] = tuple((name, self.shown[key]) for name in phrase.topics)
                continue
            inside = {
                (name, self.shown[part])
                for part in _parts(key)
                for name in keyword_topics.get(part, ())
                if name in phrase.topics
            }
            if inside:
                names[key] = tuple(sorted(inside))
        return names

    def _weigh(
        self, found: dict[tuple[str, ...], float], about_school: bool, words: list[str]
    ) -> Evidence:
        evidence = Evidence(words=words, tuning=self.tuning)
        families, topics, reasons = evidence.families, evidence.topics, evidence.reasons
        relevance = against = 0.0
        for key, placed in found.items():
            weight, family, phrase_topics, vote, needs_school, shown = self.weighing[key]
            if needs_school and not about_school:
                continue
            amount = weight * math.sqrt(placed)
            families[family] = families.get(family, 0.0) + amount
            if amount > 0:
                relevance += amount
                for topic in phrase_topics:
                    topics[topic] = topics.get(topic, 0.0) + amount * vote
            else:
                against -= amount
            reasons[shown] = amount
        evidence.relevance, evidence.against = relevance, against
        return evidence

    def topic_matrix(self, evidence: Sequence[Evidence]) -> np.ndarray:
        """The built-in topic shares, a row per item (as `topic_names`) summing to 1, or
        all 0 for an item with no topic's phrase; only the `lead` sections when there are."""
        names = self.topic_names
        shares = (e.topic_shares() if e.topics or e.kin else {} for e in evidence)
        rows = np.array([[s.get(t, 0.0) for t in names] for s in shares])
        rows = rows.reshape(len(evidence), len(names))
        for row, found in zip(rows, evidence, strict=True):
            if found.lead and not row.any():  # the keyword alone: its sections share
                row[[names.index(t) for t in found.lead]] = 1.0
        totals = rows.sum(axis=1, keepdims=True)
        return np.divide(rows, totals, out=np.zeros_like(rows), where=totals > 0)

    def rank(self, item: RankInput) -> Ranking:
        return cold_ranking(item, self.read([item])[0])


def temper(probability: float, temper: float) -> float:
    """A probability pulled back from 0 and 1 in log-odds (divided by `temper`): a
    classifier's 0.999 and 0.9999 stay apart on the scale a curator reads, and the order is
    kept."""
    odds = math.log(max(probability, 1e-12)) - math.log(max(1.0 - probability, 1e-12))
    return 1.0 / (1.0 + math.exp(-odds / temper))


def cold_ranking(item: RankInput, evidence: Evidence) -> Ranking:
    """An item's ranking by the cold start alone."""
    topic = evidence.top_topic()
    return Ranking(item.id, evidence.score, topic, evidence.why(topic))


KNOWN_KEYWORDS = 1 / 3  # the field's own configs: 0.83; other fields' so far: 0 to 0.07


def _known_share(topics: Sequence[Topic], known: set[tuple[str, ...]]) -> float:
    """The share of the config's keywords that are phrases of the lexicon's families (whose
    keys are `known`)."""
    keywords = [keyword for topic in topics for keyword in topic.keywords]
    found = sum(not known.isdisjoint(variants(keyword)) for keyword in keywords)
    return found / len(keywords) if keywords else 0.0


def _parts(key: tuple[str, ...]) -> Iterable[tuple[str, ...]]:
    """Every shorter run of a phrase's stems."""
    for size in range(1, len(key)):
        for start in range(len(key) - size + 1):
            yield key[start : start + size]


def _keyword_topics(topics: Sequence[Topic]) -> dict[tuple[str, ...], tuple[str, ...]]:
    found: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for topic in topics:
        for keyword in topic.keywords:
            for key in variants(keyword):
                if topic.name not in found[key]:
                    found[key].append(topic.name)
    return {key: tuple(names) for key, names in found.items()}


def _owner(
    keys: Iterable[tuple[str, ...]], keyword_topics: dict[tuple[str, ...], tuple[str, ...]]
) -> tuple[str, ...]:
    """The topic whose keywords share most phrases with a concept family (its phrases'
    `keys`; none if none)."""
    shared: dict[str, int] = defaultdict(int)
    for key in keys:
        for name in keyword_topics.get(key, ()):
            shared[name] += 1
    if not shared:
        return ()
    return (max(shared.items(), key=lambda pair: (pair[1], pair[0]))[0],)


def _keyword_shown(topics: Sequence[Topic], key: tuple[str, ...]) -> str:
    return next(k for t in topics for k in t.keywords if key in variants(k))


def _foremost(says: dict[str, tuple[str, str]], title_topics: set[str]) -> tuple[str, ...]:
    """The sections the operator's keywords decide: those named in the title's label
    ("Webinar: …", "Research brief: …": how the publisher files the piece); else those
    named in the title; else those named in the lede, unless the title's own phrases speak
    of another section (then the lede names them in passing: none, and the evidence
    decides)."""
    for places in ((LABEL,), TITLE_PLACES):
        titled = sorted(name for name, (place, _) in says.items() if place in places)
        if titled:
            return tuple(titled)
    lede = sorted(says)
    if title_topics - set(lede):
        return ()
    return tuple(lede)


def _label_length(title: str) -> int:
    """How many stems a title's label has: the few words before its first colon and a
    space ("Case study: …", "Podcast episode 12: …"; not "Webinar 3:30 pm …" nor a URL);
    0 when it has none."""
    label, colon, rest = title.partition(": ")
    size = word_count(label)
    return size if colon and rest.strip() and size <= LABEL_WORDS else 0


LABEL = "title's label"
TITLE_PLACES = (LABEL, "title")
LABEL_WORDS = 4


def _first_sentence_length(text: str) -> int:
    """How many stems the text's first sentence has (of its first LEDE_CHARS characters
    at most: a text with no sentence end near its start has no lede to find)."""
    found = _SENTENCE_END.search(text, 0, LEDE_CHARS)
    return word_count(text[: found.end() if found else LEDE_CHARS])


LEDE_CHARS = 1_000
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")


def _ambiguous(key: tuple[str, ...]) -> bool:
    return len(key) == 1 and key[0] not in UNAMBIGUOUS_WORDS
