"""The curators' web app (Starlette): login, the queue, item pages, sources, health.

It only calls the store and the stages; it never runs a poll on its event loop and never
shows fetched text without escaping or sanitizing it.
"""
