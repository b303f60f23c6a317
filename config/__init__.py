"""The Django project: settings for each environment, URL routing, ASGI/WSGI entry points, and the
Celery application (imported here so ``shared_task`` binds to it in every process)."""

from config.celery import app as celery_app

__all__ = ("celery_app",)
