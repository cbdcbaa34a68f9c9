"""What users do, in one place the CLI, the web app and the daemon all call: triage and
undo, the queue and its filters, items, sources and polls, accounts and logins, reranking,
backups and health. Each function takes the settings and a store it is lent, applies the
rules, and returns plain values; none prints, renders or parses a request.
"""
