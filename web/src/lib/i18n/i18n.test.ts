// Both languages are complete: the same keys (plural forms as each language's rules need them),
// no empty text, the same {{placeholders}}; and every key the code names exists.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";

import { describe, expect, it } from "vitest";

import i18n, { LANGUAGES, resources, setLanguage } from ".";

type Tree = { [key: string]: string | Tree };

const PLURAL = /_(zero|one|two|few|many|other)$/;

function leaves(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (typeof value === "string") out.set(path, value);
    else for (const [k, v] of leaves(value, path)) out.set(k, v);
  }
  return out;
}

const catalogues = Object.fromEntries(
  LANGUAGES.map((lang) => [lang, leaves(resources[lang].translation as unknown as Tree)]),
) as Record<(typeof LANGUAGES)[number], Map<string, string>>;

function baseKeys(keys: Iterable<string>): Set<string> {
  return new Set([...keys].map((key) => key.replace(PLURAL, "")));
}

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]).sort();
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.(test|d)\.tsx?$/.test(name) ? [path] : [];
  });
}

describe("translations", () => {
  it("have the same keys in Korean and English", () => {
    const ko = baseKeys(catalogues.ko.keys());
    const en = baseKeys(catalogues.en.keys());
    expect([...en].filter((key) => !ko.has(key))).toEqual([]);
    expect([...ko].filter((key) => !en.has(key))).toEqual([]);
  });

  it("have every plural form each language needs", () => {
    for (const lang of LANGUAGES) {
      const forms = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
      const plurals = new Set([...catalogues[lang].keys()].filter((k) => PLURAL.test(k)).map((k) => k.replace(PLURAL, "")));
      for (const base of plurals) {
        for (const form of forms) expect(catalogues[lang].has(`${base}_${form}`), `${lang}: ${base}_${form}`).toBe(true);
      }
    }
  });

  it("have no empty text", () => {
    for (const lang of LANGUAGES) {
      const empty = [...catalogues[lang]].filter(([, text]) => !text.trim()).map(([key]) => key);
      expect(empty, lang).toEqual([]);
    }
  });

  it("use the same placeholders in both languages", () => {
    const other = (lang: string, key: string) => {
      const table = catalogues[lang as "ko" | "en"];
      const base = key.replace(PLURAL, "");
      return table.get(key) ?? table.get(`${base}_other`) ?? table.get(base);
    };
    for (const [key, en] of catalogues.en) {
      const ko = other("ko", key);
      expect(placeholders(ko ?? "").filter((p) => p !== "count"), key).toEqual(placeholders(en).filter((p) => p !== "count"));
    }
  });

  it("contain every literal key the code uses", () => {
    const src = resolve(__dirname, "../..");
    const en = baseKeys(catalogues.en.keys());
    const missing: string[] = [];
    for (const file of sourceFiles(src)) {
      const text = readFileSync(file, "utf8");
      for (const match of text.matchAll(/\bt\(\s*["']([\w.-]+)["']/g)) {
        if (!en.has(match[1])) missing.push(`${file.slice(src.length + 1)}: ${match[1]}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("name every value of the API's enums the interface shows", () => {
    const schema = readFileSync(resolve(__dirname, "../api/schema.d.ts"), "utf8");
    const enumValues = (name: string) => {
      const match = new RegExp(`\\b${name}: ((?:"[^"]+"(?: \\| )?)+);`).exec(schema);
      expect(match, name).not.toBeNull();
      return [...match![1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
    };
    const shown: Record<string, string> = {
      StatusEnum: "status",
      SexEnum: "patients.sex",
      PatientFileRoleEnum: "files.roles",
      UserOutputRoleEnum: "roles",
      SeqTypeEnum: "sequence.seqTypes",
    };
    for (const lang of LANGUAGES) {
      for (const [name, prefix] of Object.entries(shown)) {
        for (const value of enumValues(name)) {
          expect(catalogues[lang].has(`${prefix}.${value}`), `${lang}: ${prefix}.${value}`).toBe(true);
        }
      }
      // Every analysis kind the API accepts has a name.
      for (const kind of [...schema.matchAll(/AnalysisCreate\w+KindEnum: "(\w+)"/g)].map((m) => m[1])) {
        expect(catalogues[lang].has(`kinds.${kind}`), `${lang}: kinds.${kind}`).toBe(true);
      }
    }
  });
});

describe("language switch", () => {
  it("changes the language and remembers it", async () => {
    await setLanguage("ko");
    expect(i18n.t("nav.patients")).toBe("환자");
    expect(window.localStorage.getItem("cdss.lang")).toBe("ko");
    expect(document.documentElement.lang).toBe("ko");
    await setLanguage("en");
    expect(i18n.t("nav.patients")).toBe("Patients");
    expect(window.localStorage.getItem("cdss.lang")).toBe("en");
  });

  it("pluralises in each language", async () => {
    await setLanguage("en");
    expect(i18n.t("patients.count", { count: 1 })).toBe("1 patient");
    expect(i18n.t("patients.count", { count: 3 })).toBe("3 patients");
    await setLanguage("ko");
    expect(i18n.t("patients.count", { count: 3 })).toBe("환자 3명");
    await setLanguage("en");
  });
});
