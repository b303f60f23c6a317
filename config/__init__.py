"""The Django project: settings for each environment, URL routing, ASGI/WSGI entry points."""
