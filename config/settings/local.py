"""Single-machine settings used by `make run`: the base defaults with DEBUG on unless set."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
