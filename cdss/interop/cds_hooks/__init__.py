"""CDS Hooks 2.0 at ``/cds-services``: discovery, the ``cdss-patient-view`` service (cards built
from stored results by ``rules``, shaped by ``cards``) and its feedback endpoint. Clients prove
who they are with JWTs they sign (``auth``, keys from ``jwks``, trusted clients from ``clients``);
the patient goes through the acting user's access rule (``selectors``); ``services`` do the writes
(issued cards, feedback) with their audit records. Nothing here starts an analysis or calls the
inference server."""
