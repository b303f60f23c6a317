"""Reports and interpretation of completed analyses: the plain-language interpretation (kind
``interpretation``) and the PDF report (kind ``report``), each chained to a completed analysis.

``facts`` reads a result into sentences and checkable facts (the template interpretation),
``guards`` checks generated text against them, ``interpret`` runs a provider of
``cdss.ml.llm`` under the guards with the template as the fallback. Reports reach an analysis
only through ``cdss.jobs.access`` (the one access rule); nothing here talks to the inference
server or a language model directly.
"""
