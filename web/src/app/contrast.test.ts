import { createTheme, DEFAULT_THEME, mergeMantineTheme } from "@mantine/core";

import { contrast, contrastResolver, readable } from "./contrast";

const theme = mergeMantineTheme(DEFAULT_THEME, createTheme({ primaryColor: "blue", primaryShade: 8 }));

describe("contrast", () => {
  it("computes WCAG ratios", () => {
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    expect(contrast("#ffffff", "#ffffff")).toBeCloseTo(1, 5);
    // Mantine's gray.6 on white: the dimmed text axe-core flagged.
    expect(contrast("#868e96", "#ffffff")).toBeLessThan(4.5);
  });

  it("darkens only as far as needed", () => {
    expect(readable("#495057", ["#ffffff"])).toBe("#495057"); // already 8:1
    const fixed = readable("#868e96", ["#ffffff"]);
    expect(contrast(fixed, "#ffffff")).toBeGreaterThanOrEqual(4.5);
    expect(contrast(fixed, "#ffffff")).toBeLessThan(6);
  });

  it("gives every colour's text, filled and light variants 4.5:1", () => {
    const { light } = contrastResolver(theme);
    for (const [name, shades] of Object.entries(theme.colors)) {
      expect(contrast(light[`--mantine-color-${name}-filled`], "#ffffff"), name).toBeGreaterThanOrEqual(4.5);
      expect(contrast(light[`--mantine-color-${name}-light-color`], shades[1]), name).toBeGreaterThanOrEqual(4.5);
      expect(contrast(light[`--mantine-color-${name}-light-color`], shades[2]), name).toBeGreaterThanOrEqual(4.5);
    }
    expect(contrast(light["--mantine-color-dimmed"], theme.colors.gray[1])).toBeGreaterThanOrEqual(4.5);
    expect(contrast(light["--mantine-color-placeholder"], "#ffffff")).toBeGreaterThanOrEqual(4.5);
  });
});
