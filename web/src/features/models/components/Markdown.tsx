// Markdown (a model card) rendered as HTML: marked converts it, DOMPurify keeps only safe HTML
// (no scripts, no event handlers) even though the cards are this project's own files. Only the
// model card page loads this module, so neither library is in the login page's first load.
import { Typography } from "@mantine/core";
import DOMPurify from "dompurify";
import { marked } from "marked";
import { useMemo } from "react";

import "./markdown.css";

export function markdownToSafeHtml(markdown: string): string {
  const html = marked.parse(markdown, { async: false, gfm: true });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}

export function Markdown({ source, testId }: { source: string; testId?: string }) {
  const html = useMemo(() => markdownToSafeHtml(source), [source]);
  return (
    <Typography>
      <div className="cdss-markdown" data-testid={testId} dangerouslySetInnerHTML={{ __html: html }} />
    </Typography>
  );
}
