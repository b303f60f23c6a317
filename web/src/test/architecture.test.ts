// Feature folders stay independent (bulletproof-react): a feature imports shared code from
// src/lib and src/components, never another feature; shared code never imports a feature.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

import { describe, expect, it } from "vitest";

const src = resolve(__dirname, "..");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from\s+|import\s*\(\s*)["']([^"']+)["']/g)].map((m) => m[1]);
}

function featureOf(path: string): string | null {
  const parts = relative(src, path).split(sep);
  return parts[0] === "features" ? parts[1] : null;
}

function target(file: string, spec: string): string | null {
  if (spec.startsWith("@/")) return join(src, spec.slice(2));
  if (spec.startsWith(".")) return resolve(file, "..", spec);
  return null;
}

describe("architecture", () => {
  const files = sourceFiles(src);

  it("has feature folders", () => {
    expect(files.some((f) => featureOf(f) === "patients")).toBe(true);
  });

  it("never imports one feature from another", () => {
    const crossings = files.flatMap((file) => {
      const own = featureOf(file);
      return imports(file)
        .map((spec) => ({ spec, to: target(file, spec) }))
        .filter(({ to }) => to !== null && featureOf(to) !== null && featureOf(to) !== own)
        .filter(() => !relative(src, file).startsWith(`app${sep}`))
        .map(({ spec }) => `${relative(src, file)} -> ${spec}`);
    });
    expect(crossings).toEqual([]);
  });

  it("keeps shared code free of features", () => {
    const shared = files.filter((f) => /^(lib|components)[\\/]/.test(relative(src, f)));
    const bad = shared.flatMap((file) =>
      imports(file)
        .map((spec) => target(file, spec))
        .filter((to): to is string => to !== null && featureOf(to) !== null)
        .map((to) => `${relative(src, file)} -> ${relative(src, to)}`),
    );
    expect(bad).toEqual([]);
  });
});
