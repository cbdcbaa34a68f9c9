"""Mail: building the issue's email (a text part and an HTML part) and handing it to the
config's SMTP server. Subscribers, their tokens and the delivery ledger come here too.
"""
