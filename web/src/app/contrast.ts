// Mantine's light-scheme colours with WCAG AA contrast (4.5:1 for normal text; axe-core's
// color-contrast rule, which the end-to-end suite runs on every page). Mantine's defaults fall
// short: white on green.8 or teal.8 (3.3-3.9:1), a light badge's green.9 on green.1 (3.8:1), the
// yellow alert title (2.7:1), "dimmed" gray.6 text (3.3:1) and gray.5 placeholders (2.1:1). Each
// colour keeps its hue and is darkened only as far as the ratio needs.
import type { CSSVariablesResolver, MantineColorsTuple } from "@mantine/core";

const AA = 4.5;
const WHITE = "#ffffff";

function channels(hex: string): [number, number, number] {
  const value = hex.replace("#", "");
  const full = value.length === 3 ? [...value].map((c) => c + c).join("") : value.slice(0, 6);
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

function luminance(hex: string): number {
  const [r, g, b] = channels(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** The WCAG contrast ratio of two #rrggbb colours. */
export function contrast(a: string, b: string): number {
  const [high, low] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (high + 0.05) / (low + 0.05);
}

function darken(hex: string, amount: number): string {
  return `#${channels(hex)
    .map((c) => Math.round(c * (1 - amount)).toString(16).padStart(2, "0"))
    .join("")}`;
}

/** ``colour``, darkened in small steps until it reads at 4.5:1 on every one of ``backgrounds``. */
export function readable(colour: string, backgrounds: string[]): string {
  let current = colour;
  for (let step = 0; step < 40 && backgrounds.some((bg) => contrast(current, bg) < AA); step += 1) {
    current = darken(current, 0.04);
  }
  return current;
}

function isTuple(value: unknown): value is MantineColorsTuple {
  return Array.isArray(value) && value.length >= 10 && value.every((shade) => typeof shade === "string" && shade.startsWith("#"));
}

export const contrastResolver: CSSVariablesResolver = (theme) => {
  const light: Record<string, string> = {};
  for (const [name, shades] of Object.entries(theme.colors)) {
    if (!isTuple(shades)) continue; // virtual colours keep Mantine's values
    const filled = readable(shades[8], [WHITE]);
    light[`--mantine-color-${name}-filled`] = filled;
    light[`--mantine-color-${name}-filled-hover`] = darken(filled, 0.1);
    light[`--mantine-color-${name}-text`] = filled;
    light[`--mantine-color-${name}-outline`] = filled;
    light[`--mantine-color-${name}-light-color`] = readable(shades[9], [shades[1], shades[2]]);
  }
  const gray = theme.colors.gray;
  // Dimmed text also sits on gray.0/gray.1 surfaces (striped rows, papers).
  const quiet = readable(gray[6], [WHITE, gray[0], gray[1]]);
  light["--mantine-color-dimmed"] = quiet;
  light["--mantine-color-placeholder"] = quiet;
  light["--mantine-color-anchor"] = readable(theme.colors[theme.primaryColor][8], [WHITE]);
  return { variables: {}, light, dark: {} };
};
