"""The newsletter's bundled Jinja2 templates: email.html, email.txt, issue.html,
archive.html and feed.xml. Installed as the package `cbewatch.newsletter.templates`
(pyproject.toml maps that name onto this folder); an operator copies one into the folder
`newsletter.templates` names and edits it there (see docs/templates.md). No code here.
"""
