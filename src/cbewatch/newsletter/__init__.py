"""The monthly issue: which accepted items go in (`assemble`), what curators may change
(`edits`), how it renders as email, text, web page, archive and Atom feed (`render`),
the checks before approval (`lint`, `links`), the static archive (`site`), and a past
roundup read back in (`importer`). Plain values in, plain values out: the store and the
service layer keep and change issues; nothing here touches the database.
"""
