"""Tests that span the whole repository rather than one app: the deployment files (``deploy/``)
run for real. App tests live beside their app (``cdss/<app>/tests``)."""
