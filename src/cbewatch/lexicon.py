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
from itertools import compress


@dataclass(frozen=True)
class Concept:
    """A family of phrases that mean one thing in the field, at one strength.

    `weight` is how much one match says "this is about the field"; a negative weight says
    it is not (the field's words in another sense). A one-word phrase counts only in a
    text that also speaks of students or schools ("assessment", "equity", "policy"),
    unless it is one of the field's own words (UNAMBIGUOUS_WORDS), and counts half unless
    its concept is a strong one; every phrase of a `school_only` concept (a genre, as the
    field's news) counts only in such a text. Concepts of one `family` point to the same
    section.
    """

    name: str
    phrases: tuple[str, ...]
    weight: float
    family: str = ""
    school_only: bool = False

    @property
    def strong(self) -> bool:
        return self.weight >= STRONG


STRONG, MEDIUM, WEAK = 3.0, 1.5, 0.75


def _split(phrases: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in phrases.split(";") if p.strip())


def _concept(name: str, weight: float, phrases: str) -> Concept:
    return Concept(name, _split(phrases), weight, name)


def _family(
    name: str, strong: str, medium: str = "", weak: str = "", *, school_only: bool = False
) -> tuple[Concept, ...]:
    """One section's vocabulary in three strengths: phrases only the field uses, phrases
    that say it in a school context, and single words that merely lean its way."""
    tiers = ((STRONG, strong), (MEDIUM, medium), (WEAK, weak))
    return tuple(
        Concept(f"{name} ({weight:g})", _split(text), weight, name, school_only)
        for weight, text in tiers
        if text.strip()
    )


FIELD_FAMILY = "competency education"  # the field itself: relevance, no section of its own

FIELD_CONCEPTS: tuple[Concept, ...] = (
    *_family(
        FIELD_FAMILY,
        strong="""
        competency-based education; competency-based learning; competency education;
        competency-based; competency based; proficiency-based; mastery-based;
        mastery learning; mastery-learning; standards-based learning; standards-based;
        CBE; CompetencyWorks; performance-based learning; learning progressions;
        demonstrated mastery; demonstrate mastery; demonstrating mastery; show mastery;
        showing mastery; shows mastery; prove mastery; reach mastery; mastery of skills;
        competency framework;
        Aurora Institute; iNACOL""",
        medium="""
        mastery; competencies; competency; proficiency; proficient; demonstrate;
        demonstrated; show what they know;
        skills; skill; standards; learning outcomes""",
    ),
    *_family(
        "personalization",
        strong="""
        personalized learning; personalised learning; personalized instruction;
        personalized pathway; personalized pathways; personalize learning;
        personalizing learning; learner profile; learner profiles; personal learning plan;
        personal learning plans; individual learning plan; individual learning plans;
        individualized learning plan; learner agency;
        learner voice; flexible pacing; self-paced; self-pacing; own pace;
        own speed; own timeline;
        different paces; different speeds; learning pathways;
        learning path; learning paths; station rotation;
        student ownership; ownership of their learning; ownership of learning;
        learner-centred; student-centered; student-centred;
        student-driven; student-directed; self-directed; self-direction;
        learning playlists; playlists; choice boards; choice board; goal-setting;
        goal setting; learning goals;
        track their own progress; chart their own progress; track their progress;
        chart their progress; individualized instruction; tailored instruction""",
        medium="""
        personalized; personalised; personalize; individualized; individualised;
        tailored; tailor; pace; pacing; paced; choice; choices; choose; chose; pick;
        interests; passions; agency; goals; flexible; adaptive; tutoring;
        tutor; one-on-one; conferring; check-ins; small groups; reflect; reflection;
        progress; own learning""",
    ),
    *_family(
        "credit anywhere",
        strong="""
        anytime, anywhere learning; anytime anywhere learning; anytime anywhere;
        learning anywhere; learn everywhere; extended learning opportunities;
        extended learning opportunity; ELO; ELOs; work-based learning; seat time;
        seat-time; Carnegie unit; Carnegie units; credit flexibility;
        competency-based credit; credit for learning outside school;
        internships for credit; internship for credit; earn credit; earns credit;
        earned credit; earning credit; earn credits; receive credit; receives credit;
        award credit; awards credit; awarded credit; grant credit; grants credit;
        give credit; course credit; academic credit; elective credit; half credit;
        full credit; credit toward graduation; credits toward graduation;
        count toward graduation; counts toward graduation; credit-bearing; credit by exam;
        credit by examination; test out; tests out; testing out; credit recovery;
        dual enrollment; dual credit; early college;
        pre-apprenticeship; apprentice; apprentices;
        out-of-school learning; learning outside school; learning outside of school;
        outside the classroom; beyond the classroom; community-based learning;
        internship; internships; job shadowing; job shadow; work experience;
        career and technical education; industry credential;
        industry-recognized credential; summer job; summer jobs; part-time job;
        part-time jobs; learning at work""",
        medium="""
        credit; credits; credited; toward graduation; counts toward;
        count toward; placement; placements; community partners; employer partners;
        employers; employer; workplace; out-of-school; afterschool;
        after-school; summer learning; expanded learning; career pathways; CTE;
        certification; certified; museum; volunteer; volunteering; jobs""",
    ),
    *_family(
        "equity",
        strong="""
        equity in education; equitable access; equitable outcomes;
        opportunity gap; opportunity gaps; achievement gap; achievement gaps;
        culturally responsive; culturally sustaining; culturally relevant;
        multilingual learners; multilingual students;
        English language learners; emergent bilingual; emergent bilinguals;
        students with disabilities; special education; universal design for learning;
        UDL; underserved students; historically marginalized; marginalized students;
        anti-racist; antiracist; anti-racism; students of color;
        Black students; Latino students; Latina students; Latinx students;
        Black and Latino; Indigenous students; Native students; Native American students;
        low-income students; low-income families; students from low-income families;
        students experiencing homelessness; homeless students;
        migrant students; refugee students; immigrant students; newcomer students;
        chronically absent; chronic absenteeism; racial disparities; digital divide;
        home language; heritage language; heritage speakers; first-generation;
        juvenile justice; juvenile detention; detention school; learning disabilities;
        IEP; IEPs; 504 plans; gifted""",
        medium="""
        equity; equitable; inequitable; inequity; inequities; disparities; disparity;
        underserved; marginalized; belonging; race;
        racism; low-income; poverty; homeless; homelessness; migrant; migrants;
        refugee; refugees; immigrant; immigrants; newcomer; newcomers; multilingual;
        bilingual; interpreters; interpreter; translated; translation; dyslexia;
        deaf; blind; disability; disabilities; accommodations;
        accessibility; internet access; hotspot; hotspots; broadband; bias; biased;
        fairness; fair; fair shot; fair chance; fair chances; every learner;
        every kind of learner; all learners; gap; gaps; access; absent; absences""",
    ),
    *_family(
        "leadership",
        strong="""
        learner-centered leadership; portrait of a graduate; profile of a graduate;
        graduate portrait; graduate profile; portrait of a learner; vision of a graduate;
        superintendent; superintendents; principal leadership; school leaders;
        district leaders; district leadership; distributed leadership;
        teacher leaders; community engagement; systems change;
        system change; change management; vision for learning; shared vision;
        leadership team; leadership teams; school board;
        board members; listening tour; community conversations; community forums;
        town hall; town halls; design team; steering committee; leading change;
        stakeholder engagement; central office""",
        medium="""
        principal; principals; leaders; leadership; leading; lead; board;
        vision; mission; community; families; parents; stakeholders; transformation;
        culture; trust; coalition; network; cohort; summit; convening; retreat;
        strategy; plan; decision-making; collaboration; graduate""",
    ),
    *_family(
        "policy",
        strong="""
        state policy; policymakers; legislation; legislature; legislative; legislators;
        lawmakers; statute; seat-time waiver; graduation requirements;
        competency-based diploma; accountability system; accountability systems;
        innovative assessment pilot; innovative assessment demonstration authority;
        IADA; ESSA; Every Student Succeeds Act; state board of education;
        state board; department of education; education department; policy brief;
        testimony; testified; innovation zone; innovation zones; governor;
        rulemaking; state law; state laws; new law; bill; bills; senate bill;
        house bill; school ratings; state ratings;
        statewide test; federal testing; diploma law; credit hour;
        credit hours; funding formula; pilot districts; state auditor; commissioner;
        education commissioner; state superintendent; appropriations; state budget""",
        medium="""
        policy; policies; law; laws; waiver; waivers; accountability;
        rules; federal; state; states; statewide; flexibility; mandate; mandates;
        requirements; budget; funding; grant program; audit; auditor; task force;
        ratings; legislative staff; diploma; congress""",
    ),
    *_family(
        "grading",
        strong="""
        competency-based grading; mastery-based grading;
        proficiency-based grading; grading practices; grading policy; grading policies;
        equitable grading; grading for equity; traditional grading; letter grades;
        grading; proficiency scale; proficiency scales; performance assessment;
        performance assessments; performance task; performance tasks; reassessment;
        reassessments; reassess; retake; retakes; redo; redos; second chance;
        second chances; second try; second tries; rubric; rubrics; scoring guide;
        scoring guides; formative assessment; summative assessment; scoring calibration;
        calibration; moderation; competency-based transcript; mastery transcript;
        transcript; transcripts; report card; report cards; progress report;
        progress reports; through-year assessment; assessment literacy;
        gradebook; gradebooks; four-point scale; 4-point scale;
        unit test; unit tests; unit check; unit checks; common assessments;
        averaging; zeros; late work; homework""",
        medium="""
        assessment; assessments; assess; assessing; test; tests; testing; exam; exams;
        quiz; quizzes; score; scores; scoring; scored; feedback;
        evidence; measure; measuring; results""",
    ),
    *_family(
        "practice",
        strong="""
        mastery-based progression; competency-based pathways; project-based learning;
        move on when ready; move on when they are ready; move on when they're ready;
        advance upon mastery; advance when ready; advance when they are ready;
        move ahead when ready; move up when ready; progress skill by skill;
        project-based; PBL; exhibition of learning;
        exhibitions of learning; exhibitions; exhibition; student-led conferences;
        student-led conference; interdisciplinary; deeper learning; school redesign;
        redesign; redesigned; advisory;
        place-based learning; place-based;
        learning studio; multi-age; multiage; mixed-age; portfolio defense;
        presentation of learning; presentations of learning; experiential learning;
        inquiry-based; expeditionary learning; lab school; pilot school; innovation school;
        block schedule; bell schedule; makerspace; design challenge; hands-on learning;
        fieldwork; field work; real-world problems; passion project; passion projects;
        genius hour; intersession; learning expedition;
        community project; community projects""",
        medium="""
        projects; project; portfolio; portfolios; panel; showcase; studio; lab;
        schedule; bells; blocks; hands-on; defense; defend; present;
        presentation; presentations; mentors; mentor; mentoring; model;
        innovative; innovation; pilot; new school; units; move on;
        when they are ready; when they're ready""",
    ),
    *_family(
        "teacher resources",
        strong="""
        micro-credentials; micro-credential; microcredential; microcredentials;
        professional learning; professional development; toolkit; tool kit;
        teacher resources; resources for teachers; unit plan; unit plans;
        learning targets; learning target; I can statements; instructional coaching;
        instructional coach; instructional coaches; educator competencies;
        facilitation guide; lesson plans; lesson plan; lesson planning; webinar;
        webinars; playbook; guidebook; workbook; facilitator guide; planning guide;
        implementation guide; starter kit; video library; video series;
        online course; free course; course for teachers;
        community of practice; professional learning community; PLC; book study;
        teacher fellowship; fellowship; office hours; open educational resources;
        teacher training; sample units; planning template;
        templates; template; protocols; protocol""",
        medium="""
        guide; guides; resources; resource; tool; tools; app; apps; checklist;
        workshop; workshops; webinar series; coaching; coach; coaches; training;
        session; sessions; register; registration; apply; applications; course;
        courses; module; modules; materials; library; videos; video; download;
        curriculum; designing; design; planning""",
    ),
    *_family(
        "research",
        strong="""
        new study; white paper; issue brief; case study; case studies;
        working paper; literature review; evaluation finds; survey finds;
        research brief; new report; report finds; randomized trial;
        randomized controlled trial; new data; the data show; data show; what the data;
        findings from; key findings; new findings""",
        medium="""
        research; report; study; evaluation; survey; evidence base;
        researchers; data; finding; analyzed; polled; poll; statistics; trial""",
    ),
    # The field's own news and talk: a genre, not a subject. None of it says "this is about
    # the field" more than a little, and only in a text about schools ("a new director" of
    # a hospital is not news of the field); it says which kind of piece the field's news is.
    *_family(
        "news",
        school_only=True,
        strong="",
        medium="""
        podcast; podcasts; podcast episode; this episode; latest episode;
        listen in; guest column; guest post; guest blog; blog post; opinion;
        commentary; columnist; interview; interviews; in conversation;
        conversation with; conversations with;
        notes from the field; notes from the road; from the field; from the classroom;
        news roundup; roundup; round-up; what we're reading; reading list;
        monthly digest; newsletter; network news; member news; new members;
        new director; joins the team; steps down;
        annual letter; year in review; looking back; look back; anniversary; milestone;
        things we learned; takeaways; recap; funding awards; foundation awards;
        awards grants; announces grants; grants; grant; philanthropy; funders;
        growing movement; the movement""",
        weak="""
        episode; episodes; listen; blog; essay; announces; announced; awards; award;
        honored; foundation; fund; spreads; movement; momentum""",
    ),
)

# Words that tell an ambiguous phrase ("assessment", "equity", "policy") is about school.
SCHOOL_WORDS: tuple[str, ...] = _split(
    """student; students; school; schools; schooling; teacher; teachers; classroom;
    classrooms; district; districts; K-12; educator; educators; learner; learners;
    pupil; pupils; high school; middle school; elementary; kindergarten; curriculum;
    instruction; instructional; graduation; grade level; ninth graders; tenth graders;
    eighth graders; sixth graders; fifth graders; third graders;
    seventh graders; graders; principal; superintendent; youth; diploma; teen; teens;
    juniors; seniors; freshmen; counselor; counselors; coursework;
    transcript; young people; kids; children; unified; academy"""
)

# The field's words in their other senses. A match here counts against relevance.
OTHER_SENSES: tuple[Concept, ...] = (
    _concept(
        "property and money",
        -3.0,
        """
        property tax; property taxes; tax assessment; assessed value; assessed values;
        assessor; assessors; county assessor; assessment notice; assessment notices;
        mill rate; millage; homeowner; homeowners; home equity;
        equity line; home equity loan; mortgage; mortgages; appraisal; real estate;
        refinance; interest rate; interest rates; equity investors; income tax;
        income taxes; sales tax; sales taxes; tax cut; tax cuts; tax holiday; tax rate;
        equity stake; shareholders; stock price; stocks; dividend;
        quarterly earnings; earnings call; fiscal quarter; valuation; investors;
        venture capital; buyout""",
    ),
    _concept(
        "insurance",
        -3.0,
        """
        insurance; insurer; insurers; policyholder; policyholders; premium; premiums;
        deductible; deductibles; coverage; claims; underwriting; actuarial; liability""",
    ),
    _concept(
        "corporate",
        -2.5,
        """
        chief executive; CEO; board of directors; company; companies;
        employees; acquisition; startup; leadership retreat;
        management consultants; c-suite; managers; executives;
        management book; staff training; warehouse""",
    ),
    _concept(
        "higher education",
        -2.5,
        """
        university; universities; undergraduate; undergraduates; bachelor's;
        bachelor's degree; master's degree; degree program; degree programs; degrees;
        online degree; college students; adult learners;
        credit for prior learning; prior learning assessment; faculty; professor;
        professors; campus; medical school; law school; law schools; law students;
        business school; MBA; graduate school; graduate students; accreditor;
        accreditors; bar exam;
        first-year students; freshman seminar; tuition""",
    ),
    _concept(
        "health care",
        -2.0,
        """
        patients; patient; clinical; hospital; hospitals; nurses; nursing;
        physicians; medical; diagnosis; treatment; clinic; health plan; pharmacy;
        pharmacist; pharmacists; EMT; EMTs; paramedic; paramedics; dental; dentist;
        hygienist; hygienists""",
    ),
    _concept(
        "performing and sport",
        -2.5,
        """
        orchestra; symphony; piano; pianist; violin; violinist; guitar; guitarist; cello;
        cellist; musician; musicians; concert; recital; conservatory; masterclass;
        master class; grandmaster; martial arts;
        playoffs; chef; chefs; cooking;
        culinary; recipe; sourdough; pottery; woodworking; marathon; running clinic""",
    ),
    _concept(
        "product launch",
        -2.5,
        """
        laptop; laptops; chromebook; chromebooks; processor;
        stylus; touchscreen; retail price; priced at;
        gigabytes; headset; headsets; unveiled; model year; specs; funding round;
        series A; per seat; subscription; sponsored; sponsored content;
        limited-time offer; order now; free trial; buy now""",
    ),
    _concept(
        "job posting",
        -2.0,
        """
        now hiring; we're hiring; we are hiring; job opening; job openings; apply by;
        position open; open position; full-time position; part-time position;
        job description; salary range; seeking candidates; applications are due""",
    ),
    _concept(
        "local chores",
        -1.5,
        """
        snow day; bus route; bus routes; bus schedule; cafeteria menu; lunch menu;
        lunch prices; parking; road work; construction; roof; boiler; bond measure;
        bond vote; ribbon cutting; football; basketball; volleyball; homecoming; prom;
        bake sale; fundraiser; retirement party; obituary; teacher strike; strike;
        walkout; contract talks; salary; salaries; raises; cell phone ban;
        phone ban; cellphones; lockdown drill; shooting; enrollment decline;
        school closure; school closures; highway; highways; utility rates;
        utilities""",
    ),
)


# ---------------------------------------------------------------------------------------
# Matching: text and phrases become tuples of stems; a phrase matches a run of stems.

_WORD = re.compile(r"[a-z0-9]+")
_BRITISH = re.compile(r"(i)s(e|ed|es|ing|ation|ations)$")
_SUFFIXES = (("ies", "y"), ("ing", ""), ("ed", ""), ("es", "e"), ("s", ""))


# Words the stemmer would fold into another word of a different sense.
_KEEP = {"grading": "grading", "graded": "grading"}  # not "grade", the year of school


@lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light stemmer: plural and -ed/-ing forms and British spellings meet."""
    if word in _KEEP:
        return _KEEP[word]
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
        "cbe", "competencyworks", "elo", "elos", "udl", "pbl", "iada", "essa",
        "microcredential", "microcredentials", "antiracist", "superintendent",
        "superintendents",
    )
)  # fmt: skip


_STEMMED: dict[str, str] = {}  # ranking stems millions of words: a plain dict is fastest


def stems(text: str) -> list[str]:
    """Lowercased words (hyphens and punctuation split words), stemmed."""
    words = _WORD.findall(text.lower())
    found = list(map(_STEMMED.get, words))  # a loop in C: almost every word is known
    if None in found:
        found = [stemmed or _learn_stem(word) for stemmed, word in zip(found, words, strict=True)]
    return found


def word_count(text: str) -> int:
    """How many stems `stems(text)` gives, without stemming them."""
    return len(_WORD.findall(text.lower()))


def _learn_stem(word: str) -> str:
    stemmed = stem(word)
    # bounded: a flood of odd tokens (base64, a PDF's debris) must not grow it for ever
    if len(word) <= 30 and len(_STEMMED) < 200_000:
        _STEMMED[word] = stemmed
    return stemmed


def phrase_key(phrase: str) -> tuple[str, ...]:
    return tuple(stems(phrase))


def variants(phrase: str) -> set[tuple[str, ...]]:
    """A phrase's spellings: hyphenated, spaced and joined ("micro-school", "microschool")."""
    found = {phrase_key(phrase)}
    if "-" in phrase:
        found.add(phrase_key(phrase.replace("-", "")))
    return {key for key in found if key}


class PhraseIndex:
    """Finds every listed phrase in a list of stems: leftmost, longest, never overlapping,
    except that a `preferred` phrase (an operator's keyword) is never hidden by another that
    starts before it and ends inside it: the longest phrase there that ends before it is
    found instead, if any ("new report card": "report card", not "new report").

    `by_key` maps a phrase's stems to the phrase as it is shown."""

    def __init__(
        self,
        by_key: dict[tuple[str, ...], str],
        preferred: frozenset[tuple[str, ...]] = frozenset(),
    ) -> None:
        self.by_key = by_key
        self.preferred = preferred
        self.prefixes = {key[:size] for key in by_key for size in range(1, len(key) + 1)}
        self.firsts = {key[0] for key in by_key}
        self.pairs = {key[:2] for key in by_key if len(key) > 1}  # how longer phrases start
        self.longer_firsts = {key[0] for key in by_key if len(key) > 1}
        self.singles = {key[0]: key for key in by_key if len(key) == 1}

    @classmethod
    def of(cls, phrases: Iterable[str]) -> PhraseIndex:
        by_key: dict[tuple[str, ...], str] = {}
        for phrase in phrases:
            for key in variants(phrase):
                by_key.setdefault(key, phrase)
        return cls(by_key)

    def find(self, words: list[str]) -> Iterator[tuple[str, ...]]:
        """The matched phrases' keys, in order."""
        return (key for _, key in self.find_at(words))

    def find_at(self, words: list[str]) -> Iterator[tuple[int, tuple[str, ...]]]:
        """Each matched phrase's position and key, in order (ranking's hottest loop: most
        starts are one-word phrases, told apart from longer ones by their first two
        words)."""
        firsts, pairs, longer, singles = self.firsts, self.pairs, self.longer_firsts, self.singles
        free, end = 0, len(words) - 1  # the next match starts after the last one ends
        for i in compress(range(len(words)), map(firsts.__contains__, words)):
            if i < free:
                continue
            word = words[i]
            if word in longer and i < end and (word, words[i + 1]) in pairs:
                key = self._longest_at(words, i)
                while key and self.preferred and (at := self._hidden(words, i, key)):
                    key = self._longest_at(words, i, at)  # one that ends before it
            else:
                key = singles.get(word)
            if key:
                yield i, key
                free = i + len(key)

    def any_in(self, words: list[str]) -> bool:
        return not self.firsts.isdisjoint(words) and next(self.find(words), None) is not None

    def _hidden(self, words: list[str], i: int, key: tuple[str, ...]) -> int:
        """Where the first preferred phrase that `key` (found at i) would hide starts: one
        found from inside it that ends past it; 0 when there is none."""
        if key in self.preferred:
            return 0
        end = i + len(key)
        for j in range(i + 1, end):
            inner = self._longest_at(words, j) if words[j] in self.firsts else None
            if inner in self.preferred and j + len(inner) > end:
                return j
        return 0

    def _longest_at(self, words: list[str], i: int, stop: int = 0) -> tuple[str, ...] | None:
        """The longest phrase at i (ending by `stop`, when given)."""
        longest = None
        for end in range(i + 1, (stop or len(words)) + 1):
            key = tuple(words[i:end])
            if key not in self.prefixes:
                break
            if key in self.by_key:
                longest = key
        return longest


SCHOOL_INDEX = PhraseIndex.of(w.strip() for w in SCHOOL_WORDS if w.strip())
