"""CDS Hooks 2.0 Card JSON of one stored result (``rules.card_content`` decides what it says).

A card has ``uuid``, ``summary`` (under 140 characters), ``indicator``, ``source`` (the model with
its version, the link to its model card, and the analysis kind as ``topic``), ``links`` (one
absolute link to the result page of the web app) and, unless the client is a service account,
``detail``: Markdown with the facts (each marked AI or Rules), the rule behind the indicator and
the disclaimer. The disclaimer is in the source label too, so a card without detail carries it.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from cdss.interop.cds_hooks.rules import KIND_LABELS, CardContent

DISCLAIMER = "Not a medical device; for decision support only."
TOPIC_SYSTEM = "urn:cdss:analysis-kind"


def model_card_url(*, base_url: str, model_name: str, model_version: str) -> str:
    return base_url + reverse("model-card", kwargs={"name": model_name, "version": model_version})


def result_page_url(*, base_url: str, analysis_id: int) -> str:
    return f"{base_url}/analyses/{analysis_id}"


def detail_markdown(*, content: CardContent, analysis_id: int, completed_at: str) -> str:
    lines = [
        f"**AI result** of {content.model_name} {content.model_version} "
        f"(analysis {analysis_id}, completed {completed_at})",
        "",
        *(f"- {fact}" for fact in content.facts),
    ]
    if content.notes:
        lines += ["", *(f"_{note}_" for note in content.notes)]
    lines += [
        "",
        f"**Indicator** {content.indicator}, set by a CDSS rule (not by AI): {content.rule}.",
        "",
        f"**{DISCLAIMER}**",
    ]
    return "\n".join(lines)


def card_json(
    *,
    card_uuid: str,
    content: CardContent,
    kind: str,
    analysis_id: int,
    completed_at: str,
    base_url: str,
    with_detail: bool,
) -> dict[str, Any]:
    card: dict[str, Any] = {
        "uuid": card_uuid,
        "summary": content.summary,
        "indicator": content.indicator,
        "source": {
            "label": (f"CDSS {content.model_name} {content.model_version} (not a medical device)"),
            "url": model_card_url(
                base_url=base_url,
                model_name=content.model_name,
                model_version=content.model_version,
            ),
            "topic": {
                "system": TOPIC_SYSTEM,
                "code": kind,
                "display": KIND_LABELS.get(kind, kind),
            },
        },
        "links": [
            {
                "label": "Open the result in CDSS",
                "url": result_page_url(base_url=base_url, analysis_id=analysis_id),
                "type": "absolute",
            }
        ],
    }
    if with_detail:
        card["detail"] = detail_markdown(
            content=content, analysis_id=analysis_id, completed_at=completed_at
        )
    return card
