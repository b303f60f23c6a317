import { describe, expect, it } from "vitest";

import { filenameFrom } from "./download";

describe("filenameFrom", () => {
  it("reads plain and RFC 5987 file names", () => {
    expect(filenameFrom('attachment; filename="slices.png"', "x")).toBe("slices.png");
    expect(filenameFrom("attachment; filename*=UTF-8''%ED%99%8D.csv", "x")).toBe("홍.csv");
    expect(filenameFrom(null, "fallback.bin")).toBe("fallback.bin");
  });
});
