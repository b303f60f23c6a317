// The JavaScript a first visit to the login page loads, read from the built app (web/dist): the
// entry script index.html names, every chunk reachable from it by static imports, and the login
// route's own lazy chunk with its static imports. Sizes are gzip (level 9) of each file, as a
// compressing server sends them. Used by the budget test (e2e/budget.spec.ts, which also checks in
// a browser that this is what the page really loads) and by bench/web.mjs.
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

// `import{a as b}from"./x.js"` and `import"./x.js"` (Vite's output: chunks import siblings).
const STATIC_IMPORT = /(?:^|[;\n}])\s*import\s*(?:[\w$*{}\s,]+?from\s*)?["']\.\/([^"']+\.js)["']/g;

/** Static imports of one chunk of `assets/`. */
function staticImports(assets, name) {
  const source = readFileSync(join(assets, name), "utf8");
  return [...source.matchAll(STATIC_IMPORT)].map((match) => match[1]);
}

function closure(assets, roots) {
  const seen = new Set();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop();
    if (seen.has(name)) continue;
    seen.add(name);
    queue.push(...staticImports(assets, name));
  }
  return seen;
}

/**
 * @param {string} dist the built app (web/dist)
 * @returns {{ files: { name: string, bytes: number, gzip: number }[], bytes: number, gzip: number, css: { name: string, bytes: number, gzip: number }[] }}
 */
export function loginFirstLoad(dist) {
  const assets = join(dist, "assets");
  const html = readFileSync(join(dist, "index.html"), "utf8");
  const entries = [...html.matchAll(/<script[^>]+type="module"[^>]+src="[^"]*\/assets\/([^"]+\.js)"/g)].map((m) => m[1]);
  if (entries.length === 0) throw new Error(`no module script in ${dist}/index.html`);
  const login = readdirSync(assets).filter((name) => /^LoginPage-[\w-]+\.js$/.test(name));
  if (login.length !== 1) throw new Error(`expected one LoginPage chunk in ${assets}, found ${login.length}`);
  const size = (name) => {
    const data = readFileSync(join(assets, name));
    return { name, bytes: data.length, gzip: gzipSync(data, { level: 9 }).length };
  };
  const files = [...closure(assets, [...entries, ...login])].sort().map(size);
  const css = [...html.matchAll(/<link[^>]+rel="stylesheet"[^>]+href="[^"]*\/assets\/([^"]+\.css)"/g)].map((m) => size(m[1]));
  return {
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
    gzip: files.reduce((sum, file) => sum + file.gzip, 0),
    css,
  };
}
