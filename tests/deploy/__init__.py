"""The production path, tested with real processes: Debian's nginx with ``deploy/nginx/cdss.conf``
in front of gunicorn (``deploy/gunicorn.conf.py``) and the inference server, and the systemd units
of ``deploy/systemd/`` checked by ``systemd-analyze verify``. Each test skips when its tool is
missing here, and fails instead when ``CI`` is set (``.ci/run`` installs the tools)."""
