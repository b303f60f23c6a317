"""Shared building blocks: the base model, the request context, the one DRF exception handler,
middleware (request id, body limit, CSP, request log), pagination and strict serializers, the
Prometheus metrics and /metrics, the JSON log formatter. Nothing domain-specific lives here."""
