"""The React web app (``web/``) served by Django at ``/``.

``make web`` builds the client into ``web/dist``; this app serves its ``index.html`` for every
route of the single-page app (any GET that is not the API, the admin, static files or another
server route), with a fresh CSP nonce per response, and its finder hands the hashed assets to
``collectstatic`` under ``STATIC_URL + "web/"`` for WhiteNoise (cached as immutable). Without a
build, ``/`` answers a page that says how to make one. No API, model or business logic lives here.
"""
