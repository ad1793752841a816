import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { SETTINGS } from "../../collector/src/settings";
import { PAGE_PATH, render } from "../../docs/gen/collectorSettings";
import { ENV_KEYS, FLAG_FOR_ENV, flagSpelling, SECRET_KEYS } from "../../domain/collectorEnv";

const REPO = path.resolve(__dirname, "../..");

/** The page's table rows, each split into trimmed cells (escaped pipes kept inside a cell). */
function tableRows(text: string): string[][] {
  return text
    .split("\n")
    .filter((line) => line.startsWith("| `"))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.trim()),
    );
}

describe("docs/collector-settings.md", () => {
  it("is exactly what docs/gen/collectorSettings.ts renders (run `npm run docs` after changing a setting)", () => {
    expect(PAGE_PATH).toBe("docs/collector-settings.md");
    expect(readFileSync(path.join(REPO, PAGE_PATH), "utf8")).toBe(render());
  });

  it("has one row per environment variable, with its flag and secret column from the table", () => {
    const rows = tableRows(render());
    expect(rows.map((row) => row[0])).toEqual(ENV_KEYS.map((key) => `\`${key}\``));
    for (const [variable, flag, , secret] of rows) {
      const key = variable!.slice(1, -1) as (typeof ENV_KEYS)[number];
      const expectedFlag = FLAG_FOR_ENV[key];
      expect(flag).toBe(expectedFlag ? `\`${flagSpelling(expectedFlag)}\`` : "none");
      expect(secret).toBe(SECRET_KEYS.has(key) ? "yes" : "no");
    }
  });

  it("shows each setting's default as the table gives it", () => {
    const rows = new Map(tableRows(render()).map((row) => [row[0], row]));
    for (const setting of SETTINGS) {
      expect(rows.get(`\`${setting.env}\``)?.[2]).toBe(
        (setting.shownDefault ?? "").replace(/</g, "\\<"),
      );
    }
    expect(rows.get("`AUDIT_HTTP_PORT`")?.[2]).toBe("9464");
    expect(rows.get("`AUDIT_STATE`")?.[2]).toBe("sqlite:./.auditbridge/state.db");
  });

  it("ends in exactly one newline", () => {
    expect(render().endsWith("\n")).toBe(true);
    expect(render().endsWith("\n\n")).toBe(false);
  });
});
