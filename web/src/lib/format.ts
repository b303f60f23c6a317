// Numbers, sizes and dates as a person reads them, in the interface's language.

function locale(lang: string): string {
  return lang === "ko" ? "ko-KR" : "en-GB";
}

/** A date-time such as "27 Nov 2026, 14:05" / "2026. 11. 27. 오후 2:05"; "—" when absent. */
export function formatDateTime(value: string | null | undefined, lang: string): string {
  if (!value) return "—";
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return "—";
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: "medium", timeStyle: "short" }).format(date);
}

/** A calendar date (YYYY-MM-DD from the API, no time zone) in the reader's format. */
export function formatDate(value: string | null | undefined, lang: string): string {
  if (!value) return "—";
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return "—";
  // A calendar date has no time zone: format it at noon UTC so no zone moves it a day.
  const date = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]), 12));
  return new Intl.DateTimeFormat(locale(lang), { dateStyle: "medium", timeZone: "UTC" }).format(date);
}

const UNITS = ["B", "KB", "MB", "GB", "TB"] as const;

/** Bytes in binary units with at most one decimal: 1536 -> "1.5 KB". */
export function formatBytes(bytes: number | null | undefined, lang: string): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes) || bytes < 0) return "—";
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 ? 0 : value < 10 ? 1 : 0;
  const number = new Intl.NumberFormat(locale(lang), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(value);
  return `${number} ${UNITS[unit]}`;
}

/** A probability (0-1) as a percentage: 0.8734 -> "87.3%"; "—" when absent. */
export function formatProbability(p: number | null | undefined, lang: string, digits = 1): string {
  if (p === null || p === undefined || !Number.isFinite(p)) return "—";
  return new Intl.NumberFormat(locale(lang), {
    style: "percent",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(p);
}

/** A measurement with a fixed number of decimals and grouping: 1234.5 -> "1,234.5". */
export function formatNumber(value: number | null | undefined, lang: string, digits = 1): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  return new Intl.NumberFormat(locale(lang), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(value);
}

/**
 * A model's raw value with three significant digits, in scientific notation when it is tiny or
 * huge (contributions of 1e-6 would otherwise all read "0.000").
 */
export function formatSignificant(value: number | null | undefined, lang: string, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const magnitude = Math.abs(value);
  const scientific = magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6);
  return new Intl.NumberFormat(locale(lang), {
    maximumSignificantDigits: digits,
    notation: scientific ? "scientific" : "standard",
  }).format(value);
}
