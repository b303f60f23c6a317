// The CT viewer's pure parts: the label colours as a Niivue drawing colour map (the ids and colours
// come from the result's `labels`, the same table the slice figure and the mesh use) and the HU
// window presets.

export interface CtLabelColour {
  id: number;
  name: string;
  colour: string;
}

/** "#rrggbb" as [r, g, b] (0-255), or null for anything else. */
export function hexToRgb(hex: string): [number, number, number] | null {
  const match = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  if (!match) return null;
  return [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)];
}

/** Niivue's colour-map table (parallel R, G, B, A arrays indexed by I). */
export interface DrawColormap {
  R: number[];
  G: number[];
  B: number[];
  A: number[];
  I: number[];
  labels: string[];
}

/**
 * The drawing layer's colour map: index 0 (no label) transparent, each label opaque in its
 * colour (the layer's opacity slider fades them together). Niivue fills the gaps between ids
 * with transparent entries; a label with an unreadable colour or an id outside 1-255 is left
 * out rather than drawn in a colour nobody chose.
 */
export function drawColormap(labels: CtLabelColour[]): DrawColormap {
  const map: DrawColormap = { R: [0], G: [0], B: [0], A: [0], I: [0], labels: [""] };
  const seen = new Set<number>([0]);
  for (const label of [...labels].sort((a, b) => a.id - b.id)) {
    const rgb = hexToRgb(label.colour);
    if (!rgb || !Number.isInteger(label.id) || label.id < 1 || label.id > 255 || seen.has(label.id)) continue;
    seen.add(label.id);
    map.R.push(rgb[0]);
    map.G.push(rgb[1]);
    map.B.push(rgb[2]);
    map.A.push(255);
    map.I.push(label.id);
    map.labels.push(label.name);
  }
  return map;
}

/** HU windows (level +- width / 2) a radiologist would pick for each tissue. */
export const CT_WINDOWS = {
  softTissue: { min: -160, max: 240 }, // W 400, L 40
  bone: { min: -500, max: 1300 }, // W 1800, L 400
  lung: { min: -1350, max: 150 }, // W 1500, L -600
} as const;
export type CtWindow = keyof typeof CT_WINDOWS;
