"""Job callbacks: signed as the Standard Webhooks spec says (``sender.py``), to URLs the guard
allows (``url_guard.py``), with a secret from the settings or the data directory (``secret.py``).

Nothing is imported here: ``scribe.config`` reads ``secret.py`` and should not pull in httpx.
"""
