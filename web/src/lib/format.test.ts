import { describe, expect, it } from "vitest";

import { formatBytes, formatDate, formatDateTime, formatNumber, formatProbability, formatSignificant } from "./format";

describe("formatBytes", () => {
  it("uses binary units with at most one decimal", () => {
    expect(formatBytes(0, "en")).toBe("0 B");
    expect(formatBytes(1023, "en")).toBe("1,023 B");
    expect(formatBytes(1536, "en")).toBe("1.5 KB");
    expect(formatBytes(2206612, "en")).toBe("2.1 MB");
    expect(formatBytes(25 * 1024 * 1024, "en")).toBe("25 MB");
    expect(formatBytes(1024 ** 3, "ko")).toBe("1.0 GB");
  });

  it("shows a dash for what is not a size", () => {
    expect(formatBytes(undefined, "en")).toBe("—");
    expect(formatBytes(-1, "en")).toBe("—");
    expect(formatBytes(Number.NaN, "en")).toBe("—");
  });
});

describe("formatProbability", () => {
  it("writes a percentage with the given decimals", () => {
    expect(formatProbability(0.8734, "en")).toBe("87.3%");
    expect(formatProbability(1, "en", 0)).toBe("100%");
    expect(formatProbability(0.05, "ko")).toBe("5.0%");
  });

  it("shows a dash when there is none", () => {
    expect(formatProbability(null, "en")).toBe("—");
  });
});

describe("formatNumber", () => {
  it("groups thousands and fixes decimals", () => {
    expect(formatNumber(1234.56, "en")).toBe("1,234.6");
    expect(formatNumber(-12, "en", 2)).toBe("-12.00");
    expect(formatNumber(undefined, "en")).toBe("—");
  });
});

describe("formatDate", () => {
  it("formats a calendar date without moving it across time zones", () => {
    expect(formatDate("1980-01-02", "en")).toBe("2 Jan 1980");
    expect(formatDate("1980-01-02", "ko")).toBe("1980. 1. 2.");
  });

  it("refuses what is not a date", () => {
    expect(formatDate("", "en")).toBe("—");
    expect(formatDate("02/01/1980", "en")).toBe("—");
    expect(formatDate(null, "en")).toBe("—");
  });
});

describe("formatDateTime", () => {
  it("formats an ISO date-time in both languages", () => {
    const value = "2026-11-27T14:05:00Z";
    expect(formatDateTime(value, "en")).toMatch(/2026/);
    expect(formatDateTime(value, "ko")).toMatch(/2026\. 11\. 2[78]\./);
  });

  it("shows a dash for nothing or nonsense", () => {
    expect(formatDateTime(null, "en")).toBe("—");
    expect(formatDateTime("not a date", "en")).toBe("—");
  });
});

describe("formatSignificant", () => {
  it("keeps three significant digits and goes scientific for tiny values", () => {
    expect(formatSignificant(0.75812, "en")).toBe("0.758");
    expect(formatSignificant(2.8461e-6, "en")).toBe("2.85E-6");
    expect(formatSignificant(-1.2e-7, "en")).toBe("-1.2E-7");
    expect(formatSignificant(0, "en")).toBe("0");
    expect(formatSignificant(1234.5, "en")).toBe("1,230");
    expect(formatSignificant(undefined, "en")).toBe("—");
  });
});
