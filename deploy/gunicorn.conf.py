"""Gunicorn settings for the CDSS web process (HTTP and WebSockets through Uvicorn workers).

Started by deploy/systemd/cdss-web.service:
    gunicorn -c deploy/gunicorn.conf.py config.asgi:application
Nginx (deploy/nginx/cdss.conf) is the only client: it terminates HTTPS and proxies to the socket.
"""

import multiprocessing
import os

bind = os.environ.get("CDSS_WEB_BIND", "unix:/run/cdss/web.sock")
# The socket is for nginx (in the cdss group) only: Django trusts its forwarded headers
# (CDSS_TRUSTED_PROXIES=unix), so no other local user may connect to it.
umask = 0o007
# ASGI workers: each holds many WebSockets; two per core is plenty for a hospital.
worker_class = os.environ.get("CDSS_WEB_WORKER_CLASS", "uvicorn.workers.UvicornWorker")
workers = int(os.environ.get("CDSS_WEB_WORKERS", multiprocessing.cpu_count() * 2))
# Long enough for the largest upload to be read; WebSockets are not subject to it.
timeout = int(os.environ.get("CDSS_WEB_TIMEOUT", "120"))
graceful_timeout = 30
keepalive = 5
# Restart workers now and then so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Nginx on the same host sets X-Forwarded-Proto and X-Real-IP; trust them only from it.
forwarded_allow_ips = "127.0.0.1,::1"
accesslog = None  # nginx keeps the access log; Django logs one line per request without queries
errorlog = "-"
loglevel = os.environ.get("DJANGO_LOG_LEVEL", "info").lower()
