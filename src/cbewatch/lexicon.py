"""The field's vocabulary for cold-start ranking: concepts of K-12 competency-based
education with their phrase variants, words that only count near schools, and the other
senses the field's words have elsewhere. Also the phrase matcher (light stemming).

Pure data and pure functions: no I/O, no config reading, no topic names of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Concept:
    """A family of phrases that mean one thing in the field.

    `weight` is how much one match says "this is about the field"; a negative weight says
    it is not (the field's words in another sense). A one-word phrase is ambiguous
    ("assessment", "equity", "policy") and counts only in a text that also speaks of
    students or schools, unless it is one of the field's own words (UNAMBIGUOUS_WORDS).
    """

    name: str
    phrases: tuple[str, ...]
    weight: float


def _concept(name: str, weight: float, phrases: str) -> Concept:
    return Concept(name, tuple(p.strip() for p in phrases.split(";") if p.strip()), weight)


FIELD_CONCEPTS: tuple[Concept, ...] = (
    _concept(
        "competency education",
        3.0,
        """
        competency-based education; competency-based learning; competency education;
        competency-based; proficiency-based; mastery-based; mastery learning;
        standards-based learning; CBE; CompetencyWorks; performance-based learning;
        competency-based system; learning progressions; demonstrated mastery;
        demonstrate mastery; demonstrating mastery; show mastery; move on when ready;
        move on when they are ready; advance upon mastery; advance when ready""",
    ),
    _concept(
        "personalization",
        2.0,
        """
        personalized learning; personalised learning; personalized instruction;
        learner-centered; learner-centred; student-centered; student-centred;
        learner profile; learner profiles; personal learning plan; personal learning path;
        individual learning plan; student agency; learner agency; voice and choice;
        flexible pacing; self-paced; own pace; their own pace; learning pathways;
        blended learning; student ownership; ownership of their learning;
        ownership of learning; goal setting; learning playlists; playlist;
        student-driven; student-directed; self-directed learners; tailored instruction;
        student choice; choice; choices; pace; pacing; learning goals; their own goals;
        set goals; own path; individualized; individualised; adaptive; small groups;
        reflect; reflection; journals; goal tracker; conferring; one-on-one""",
    ),
    _concept(
        "credit anywhere",
        2.0,
        """
        anytime, anywhere learning; anytime anywhere; learning anywhere; learn everywhere;
        extended learning opportunities; extended learning opportunity; ELO; ELOs;
        work-based learning; seat time; seat-time; Carnegie unit; credit flexibility;
        competency-based credit; credit for learning outside school; internships for credit;
        internship for credit; earn credit; earned credit; earning credit; course credit;
        academic credit; credit toward graduation; credit-bearing; dual enrollment;
        dual credit; early college; apprenticeship; apprenticeships; youth apprenticeship;
        pre-apprenticeship; out-of-school learning; outside the classroom;
        beyond the classroom; community-based learning; learning outside school;
        internship; internships; job shadowing; credit; credits; graduation credit;
        toward graduation; toward a diploma; count toward graduation; counts toward;
        placement; placements; community partners; employer partners; employers;
        out-of-school; afterschool; after-school; summer learning; expanded learning;
        career pathways; career and technical education; CTE; workplace; job site""",
    ),
    _concept(
        "equity",
        2.0,
        """
        educational equity; equity in education; equitable access; equitable outcomes;
        opportunity gap; opportunity gaps; achievement gap; culturally responsive;
        culturally sustaining; culturally relevant; multilingual learners;
        multilingual students; English learners; English language learners;
        emergent bilingual; students with disabilities; special education;
        universal design for learning; UDL; underserved students; underserved;
        historically marginalized; marginalized students; inclusive learning; inclusion;
        anti-racist; antiracist; anti-racism; students of color; low-income students;
        students from low-income families; racial disparities; disparities; equity;
        belonging; access and opportunity; first-generation; home language;
        languages; immigrant; immigrants; newcomer; newcomers; income; race; subgroup;
        subgroups; disaggregated; gap; gaps; fair access; access; rigorous coursework;
        tracking; tracks; bias; biased; cultures; bilingual; translated; rural;
        left behind; least well served; disability; disabilities""",
    ),
    _concept(
        "leadership",
        1.5,
        """
        learner-centered leadership; portrait of a graduate; profile of a graduate;
        graduate portrait; graduate profile; portrait of a learner; vision of a graduate;
        superintendent; superintendents; principal leadership; school leaders;
        district leaders; district leadership; distributed leadership;
        teacher leadership; teacher leaders; community engagement; engage the community;
        systems change; system change; change management; vision for learning;
        shared vision; strategic plan; leadership team; school board; transformation;
        leading change; stakeholder engagement; community conversations;
        community listening; design team; forums; community forums; listening tour;
        central office; district office; principals; leaders; leading; lead;
        board adopted; decision-making; school board members; network of principals;
        the community; residents; vision; graduate""",
    ),
    _concept(
        "policy",
        1.5,
        """
        state policy; policy; policies; policymakers; legislation; legislature;
        legislators; lawmakers; bill; statute; seat-time waiver; waiver; waivers;
        graduation requirements; competency-based diploma; accountability system;
        accountability; innovative assessment pilot; innovative assessment demonstration
        authority; IADA; ESSA; Every Student Succeeds Act; state board of education;
        state board; department of education; policy brief; testimony; innovation zone;
        innovation zones; governor; regulations; rulemaking; state law; funding formula;
        federal""",
    ),
    _concept(
        "grading",
        2.0,
        """
        standards-based grading; competency-based grading; mastery-based grading;
        proficiency-based grading; grading practices; grading policy; equitable grading;
        grading for equity; traditional grading; letter grades; grades; grading;
        proficiency scale; proficiency scales; performance assessment;
        performance assessments; performance task; performance tasks; reassessment;
        reassessments; retake; retakes; redo; rubric; rubrics; formative assessment;
        summative assessment; scoring calibration; calibration; moderation;
        competency-based transcript; mastery transcript; transcript; report card;
        report cards; through-year assessment; assessment literacy; assessment;
        assessments; evidence of learning; feedback; zero; zeros; homework; averaging;
        gradebook; four-point scale; 4-point scale; scored""",
    ),
    _concept(
        "practice",
        1.5,
        """
        mastery-based progression; competency-based pathways; project-based learning;
        PBL; capstone; capstone project; exhibition of learning; exhibitions;
        defense of learning; student-led conferences; student-led conference;
        interdisciplinary; deeper learning; school redesign; redesign; advisory;
        flexible scheduling; microschool; micro-school; microschools; place-based learning;
        place-based; learning studio; multi-age; multiage; hands-on learning;
        portfolio defense; presentation of learning; experiential learning;
        inquiry-based; studio; innovation; innovative practices; pilot school; projects;
        project; portfolio; portfolios; panel; mentoring; mentor; mentors; showcase;
        mixed-age; long blocks; block schedule; schedule; real-world; community experts;
        student-led; presentation; present; presents; defend; co-plan; co-planning;
        across subjects; workshop; workshops; expedition; field work; fieldwork""",
    ),
    _concept(
        "teacher resources",
        1.5,
        """
        micro-credentials; micro-credential; microcredential; microcredentials;
        professional learning; professional development; toolkit; tool kit;
        teacher resources; resources for teachers; unit planning; unit plan;
        learning targets; learning target; instructional coaching; instructional coach;
        coaching; educator competencies; facilitation guide; lesson plans; lesson plan;
        lesson planning; webinar; webinars; playbook; guidebook; workbook; protocol;
        protocols; templates; template; professional learning community; PLC;
        planning guide; self-paced course; online course; course for educators;
        implementation guide; guide; credential; credentials; course; module; modules;
        materials; open educational resources; openly licensed; facilitator;
        facilitator notes; sample units; unit planner; recorded session; video examples;
        free course; download; downloadable; kit; starter kit; checklist;
        reflection prompts; library of; coaches""",
    ),
    _concept(
        "research",
        1.0,
        """
        research; report; study finds; study; evaluation; white paper; issue brief;
        case study; survey; evidence base; working paper; literature review; findings;
        researchers; data""",
    ),
)

# Words that tell an ambiguous phrase ("assessment", "equity", "policy") is about school.
SCHOOL_WORDS: tuple[str, ...] = tuple(
    """student; students; school; schools; schooling; teacher; teachers; classroom;
    classrooms; district; districts; K-12; educator; educators; learner; learners;
    pupil; pupils; high school; middle school; elementary; kindergarten; curriculum;
    instruction; instructional; graduation; grade level; ninth graders; tenth graders;
    eighth graders; principal; superintendent; youth; education; diploma; teen; teens;
    juniors; seniors; counselor; counselors; coursework; transcript; young people""".replace(
        "\n", " "
    ).split(";")
)

# The field's words in their other senses. A match here counts against relevance.
OTHER_SENSES: tuple[Concept, ...] = (
    _concept(
        "property and money",
        -3.0,
        """
        property tax; property taxes; tax assessment; assessed value; assessor;
        county assessor; homeowner; homeowners; home equity; equity line; mortgage;
        mortgages; appraisal; real estate; refinance; interest rate; interest rates;
        private equity; equity investors; equity stake; shares; shareholders; stock;
        portfolio managers; dividend; quarterly earnings; earnings; revenue; fiscal quarter;
        valuation; investors; venture; fund""",
    ),
    _concept(
        "insurance",
        -3.0,
        """
        insurance; insurer; insurers; policyholder; policyholders; premium; premiums;
        deductible; coverage; claims; underwriting; actuarial""",
    ),
    _concept(
        "corporate",
        -2.5,
        """
        executive; executives; CEO; chief executive; board of directors; corporate;
        company; companies; employees; workforce retention; sales team; quarterly;
        customers; brand; marketing; merger; acquisition; startup; leadership retreat;
        management consultants; c-suite; managers""",
    ),
    _concept(
        "performing and sport",
        -2.5,
        """
        orchestra; symphony; piano; pianist; violin; violinist; guitar; guitarist; cello;
        musician; musicians; concert; recital; conservatory; chess; grandmaster;
        martial arts; black belt; dojo; athlete; athletes; coach said; season; tournament;
        playoffs; championship; quarterback; chef; cooking; kitchen; recipe; sourdough;
        pottery; woodworking; painting; gallery""",
    ),
    _concept(
        "product launch",
        -2.5,
        """
        laptop; laptops; tablet; tablets; chromebook; chromebooks; processor; battery;
        battery life; stylus; touchscreen; display; pre-order; preorder; pre-orders;
        retail price; price; priced at; ships; shipping; available in; storage; gigabytes;
        GB; RAM; hardware; device; devices; headset; unveiled; launch; launches; model year;
        specs""",
    ),
    _concept(
        "health and clinic",
        -2.0,
        """
        patients; patient; clinical; hospital; nurses; physicians; medical; diagnosis;
        treatment; clinic; health plan""",
    ),
    _concept(
        "local chores",
        -1.5,
        """
        snow day; bus route; bus routes; cafeteria menu; lunch menu; parking; road work;
        construction; roof; boiler; bond measure; ribbon cutting; football; basketball;
        volleyball; homecoming; prom; bake sale; fundraiser; retirement party; obituary""",
    ),
)


# ---------------------------------------------------------------------------------------
# Matching: text and phrases become tuples of stems; a phrase matches a run of stems.

_WORD = re.compile(r"[a-z0-9]+")
_BRITISH = re.compile(r"(i)s(e|ed|es|ing|ation|ations)$")
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", ""))


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light stemmer: plural and -ed/-ing forms and British spellings meet."""
    word = _BRITISH.sub(r"\1z\2", word)
    for suffix, replacement in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)] + replacement
            break
    return word.rstrip("e") if len(word) > 4 else word


# One-word phrases that mean the field wherever they occur.
UNAMBIGUOUS_WORDS = frozenset(
    stem(word)
    for word in (
        "cbe", "competencyworks", "elo", "elos", "udl", "pbl", "iada", "essa", "microschool",
        "microschools", "microcredential", "microcredentials", "antiracist", "superintendent",
        "superintendents",
    )
)  # fmt: skip


def stems(text: str) -> list[str]:
    """Lowercased words (hyphens and punctuation split words), stemmed."""
    return list(map(stem, _WORD.findall(text.lower())))


def phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(stems(phrase))


def variants(phrase: str) -> set[tuple[str, ...]]:
    """A phrase's spellings: hyphenated, spaced and joined ("micro-school", "microschool")."""
    found = {phrase_key(phrase)}
    if "-" in phrase:
        found.add(phrase_key(phrase.replace("-", "")))
    return {key for key in found if key}


@dataclass(frozen=True)
class Match:
    key: tuple[str, ...]  # the matched phrase, as stems
    phrase: str  # as written in the lexicon or the config


class PhraseIndex:
    """Finds every listed phrase in a list of stems: leftmost, longest, never overlapping.

    `by_key` maps a phrase's stems to the phrase as it is shown."""

    def __init__(self, by_key: dict[tuple[str, ...], str]) -> None:
        self.by_key = by_key
        self.prefixes = {key[:size] for key in by_key for size in range(1, len(key) + 1)}
        self.firsts = {key[0] for key in by_key}
        self.longer = {key[0] for key in by_key if len(key) > 1}  # words that start phrases

    @classmethod
    def of(cls, phrases: Iterable[str]) -> PhraseIndex:
        by_key: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            for key in variants(phrase):
                by_key.setdefault(key, phrase)
        return cls(by_key)

    def find(self, words: list[str]) -> Iterator[Match]:
        firsts = self.firsts
        free = 0  # the next match starts after the last one ends
        for i in [i for i, word in enumerate(words) if word in firsts]:
            if i < free:
                continue
            key = self._longest_at(words, i)
            if key:
                yield Match(key, self.by_key[key])
                free = i + len(key)

    def any_in(self, words: list[str]) -> bool:
        return not self.firsts.isdisjoint(words) and next(self.find(words), None) is not None

    def _longest_at(self, words: list[str], i: int) -> tuple[str, ...] | None:
        if words[i] not in self.longer:  # most matches are one word: no tuples to try
            key = (words[i],)
            return key if key in self.by_key else None
        longest = None
        for end in range(i + 1, len(words) + 1):
            key = tuple(words[i:end])
            if key not in self.prefixes:
                break
            if key in self.by_key:
                longest = key
        return longest


SCHOOL_INDEX = PhraseIndex.of(w.strip() for w in SCHOOL_WORDS if w.strip())
