// The per-response CSP nonce Django writes into index.html (cdss/web/views.py). Mantine and the
// plotly wrapper put it on the <style> elements they create, which the policy allows by that
// nonce alone (never 'unsafe-inline').
export function cspNonce(): string | undefined {
  if (typeof document === "undefined") return undefined;
  const meta = document.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]');
  // Browsers hide a nonce attribute's value from getAttribute; the property keeps it.
  const value = meta?.nonce || meta?.getAttribute("nonce") || undefined;
  return value && value !== "__CSP_NONCE__" ? value : undefined;
}
