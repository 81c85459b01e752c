"""The anchors chat_latency.py compares Parley against; they persist nothing.

``settings``/``asgi``/``consumers``: the stock Channels group chat (the Channels tutorial's consumer) on
channels-redis, served by daphne. The bare ``websockets`` relay lives in ``bench/_relay.py``.
"""
