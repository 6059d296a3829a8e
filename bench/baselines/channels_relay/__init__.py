"""A tutorial-style Channels chat relay: a group per room, ``group_send`` per message.

Run it like the Channels tutorial does, with daphne::

    DJANGO_SETTINGS_MODULE=bench.baselines.channels_relay.settings REDIS_URL=redis://... \\
        python -m daphne -b 127.0.0.1 -p 8001 bench.baselines.channels_relay.asgi:application
"""
