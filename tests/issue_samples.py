"""Issues to render in tests: a small one written by hand (hostile titles, links and
emphasis, a placeholder, an empty section) whose expected output the tests spell out,
and a 40-item one for size checks. Fictional organizations; example.org-style hosts."""

from __future__ import annotations

from cbewatch.model.types import Issue, IssueEntry, IssueSection

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'

HARBOR = "https://harbor-institute.example.org/reports/learner-profiles"
MESA = "https://mesa.example.org/news/agency"
NORTHFIELD = "https://northfield.example.org/briefs/retakes?utm=1&x=2"
NORTHFIELD_EARLIER = "https://northfield.example.org/briefs/reassessment"
CEDAR = "https://cedar-valley.example.org/blog/report-mastery"
PRAIRIE = "https://prairie-guild.example.org/kits/unit-planning"
TRACKER = "https://track.example.net/p.gif"
LAKESHORE = "https://lakeshore.example.org/office-hours"
SUMMIT = "https://summit.example.org/fellowship"
SUMMIT_MAIL = "mailto:fellows@summit.example.org"
GRANITE = "https://granite-learning.example.org/"
EDITORS = "mailto:editors@example.org"

# Every link of the sample issue in reading order: the text part numbers them so.
SAMPLE_LINKS = [
    GRANITE,
    HARBOR,
    MESA,
    NORTHFIELD_EARLIER,
    NORTHFIELD,
    CEDAR,
    TRACKER,
    PRAIRIE,
    LAKESHORE,
    SUMMIT_MAIL,
    SUMMIT,
    EDITORS,
]


def sample_issue(month: str = "2026-11", title: str | None = None) -> Issue:
    return Issue(
        month=month,
        title=title or "What's New in K-12 Competency-Based Education",
        intro=(
            "This month three states widened *credit for learning outside school*, and the "
            f"[Granite Learning Collaborative]({GRANITE}) opened a rubric library to all.\n\n"
            "Below: learner profiles, retakes, and a unit-planning kit worth a look."
        ),
        closing=f"That's all for November. Send us tips at [the editors' desk]({EDITORS}).",
        author="Dana Whitfield",
        sections=(
            IssueSection(
                "Personalized Learning",
                (
                    IssueEntry(
                        HARBOR,
                        "Learner Profiles in Practice",
                        "Harbor Institute",
                        "The **Harbor Institute** followed four districts for a year as "
                        f"they built [learner profiles]({HARBOR}) with students. Teachers "
                        "said *conferences* changed the most.",
                        1,
                    ),
                    IssueEntry(
                        MESA,
                        SCRIPT,
                        "Mesa Schools Network",
                        "Mesa Schools Network explains how a weekly advisory period lets "
                        "students set and revisit their own goals.",
                        2,
                    ),
                ),
            ),
            IssueSection(
                "Grading & Assessment",
                (
                    IssueEntry(
                        NORTHFIELD,
                        IMG,
                        "Northfield Assessment Lab",
                        "Northfield Assessment Lab argues that retakes belong in every "
                        "mastery system, e.g. when a unit ends before a student is ready. "
                        f"It builds on [an earlier brief]({NORTHFIELD_EARLIER}).",
                        3,
                    ),
                    IssueEntry(
                        CEDAR,
                        "Four Ways to Report Mastery",
                        "Cedar Valley Foundation",
                        "Write a blurb for “Four Ways to Report Mastery” from Cedar Valley "
                        "Foundation.",
                        4,
                        placeholder=True,
                    ),
                ),
            ),
            IssueSection("Equity"),
            IssueSection(
                "Teacher Resources",
                (
                    IssueEntry(
                        PRAIRIE,
                        "Unit Planning Kit",
                        "Prairie Teachers Guild",
                        "Prairie Teachers Guild posted a free unit-planning kit. "
                        f"[Do not click](javascript:alert(1)) {SCRIPT} ![pixel]({TRACKER})",
                        5,
                    ),
                    IssueEntry(LAKESHORE, "Office Hours Recording", "Lakeshore Coaching", "", 6),
                    IssueEntry(
                        SUMMIT,
                        "Summit Fellowship 2027",
                        "Summit Fellowship",
                        "Questions for the **Summit Fellowship**? Write to "
                        f"[the fellowship team]({SUMMIT_MAIL}) before December 4.",
                        7,
                    ),
                ),
            ),
        ),
        status="approved",
        updated="2026-11-28T09:30:00Z",
        approved_at="2026-11-28T09:30:00Z",
    )


ORGANIZATIONS = (
    "Harbor Institute", "Mesa Schools Network", "Northfield Assessment Lab",
    "Cedar Valley Foundation", "Prairie Teachers Guild", "Lakeshore Coaching",
    "Summit Fellowship", "Granite Learning Collaborative", "Riverbend District",
    "Coastal Policy Center", "Juniper Charter Alliance", "Open Pathways Project",
)  # fmt: skip
SUBJECTS = (
    "learner profiles", "mastery transcripts", "flexible pacing", "capstone defenses",
    "standards-based report cards", "student-led conferences", "micro-credentials",
    "graduate portraits", "performance tasks", "credit for work-based learning",
)  # fmt: skip
FINDINGS = (
    "Teachers reported fewer late assignments once deadlines became checkpoints.",
    "Students in the pilot asked for feedback more often than their peers.",
    "The authors recommend starting with one grade band before scaling up.",
    "Families wanted plainer language on progress reports, and got it.",
    "District leaders credit common rubrics for the smoother rollout.",
    "The guide includes planning templates that schools can adapt freely.",
)  # fmt: skip
SECTIONS = (
    "Personalized Learning", "Grading & Assessment", "Innovative Practices",
    "Policy", "Teacher Resources",
)  # fmt: skip


def forty_items(month: str = "2026-10", count: int = 40) -> Issue:
    """A full issue: `count` entries of two- or three-sentence blurbs in five sections."""
    entries: dict[str, list[IssueEntry]] = {name: [] for name in SECTIONS}
    for n in range(count):
        org = ORGANIZATIONS[n % len(ORGANIZATIONS)]
        subject = SUBJECTS[(n * 7) % len(SUBJECTS)]
        slug = subject.replace(" ", "-")
        url = f"https://{org.split()[0].lower()}.example.org/{month}/{slug}-{n}"
        title = f"What {subject.capitalize()} Taught Us ({n + 1})"
        blurb = (
            f"A new report from **{org}** looks at [{subject}]({url}) across "
            f"{3 + n % 9} schools and what changed for students. {FINDINGS[n % len(FINDINGS)]}"
        )
        if n % 3 == 0:
            blurb += f" The *{subject}* toolkit is free to download."
        entries[SECTIONS[n % len(SECTIONS)]].append(IssueEntry(url, title, org, blurb, n + 1))
    return Issue(
        month=month,
        title="What's New in K-12 Competency-Based Education",
        intro="Forty pieces from the field this month, from transcripts to teacher kits.",
        closing="See you next month.",
        sections=tuple(IssueSection(name, tuple(e)) for name, e in entries.items()),
        status="approved",
        updated=f"{month}-28T12:00:00Z",
    )
