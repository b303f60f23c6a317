"""The Content-Security-Policy of the web app's page: the site's policy (CDSS_CSP) with exactly
what the client needs added, so an operator's stricter CDSS_CSP stays in force:

- ``style-src 'nonce-…'``: Mantine writes its theme variables into <style> elements, which carry
  the nonce of this response (never ``'unsafe-inline'``);
- ``img-src blob:``: artifacts (figures) are fetched with the access token and shown from blob URLs.

Scripts stay ``'self'`` only: the built bundle has no inline script.
"""

from __future__ import annotations


def _parse(policy: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives.setdefault(tokens[0].lower(), tokens[1:])
    return directives


def _add(directives: dict[str, list[str]], name: str, source: str) -> None:
    # A directive the policy leaves out falls back to default-src: start from that.
    sources = directives.setdefault(name, list(directives.get("default-src", ["'self'"])))
    if "'none'" in sources:
        sources.remove("'none'")
    if source not in sources:
        sources.append(source)


def web_app_policy(base: str, nonce: str) -> str:
    directives = _parse(base)
    _add(directives, "style-src", f"'nonce-{nonce}'")
    _add(directives, "img-src", "blob:")
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())
