"""The plain records every layer shares (`types`), the clock's text form (`times`), and
the rules that decide how stored values change (`deciders`). No I/O, no SQL, no imports
from the rest of cbewatch: every other room may import this one.
"""
