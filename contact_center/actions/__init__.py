"""The only code that writes domain rows or publishes realtime events.

Views, consumers, webhooks and commands parse their input and call one ``do_*`` function here.
"""
