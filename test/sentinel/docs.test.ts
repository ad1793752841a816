import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ANALYTICS_RULES, HUNTING_QUERIES } from "../../components/sentinel/analyticsRules";
import { OFFICE_ACTIVITY_COLUMNS } from "../../components/sentinel/officeActivityColumns";
import {
  COLUMN_FILLS,
  EXTRA_COLUMNS,
  STANDARD_COLUMNS_NOT_EMITTED,
} from "../../components/sentinel/officeActivityFunction";
import { WORKBOOK_QUERIES } from "../../components/sentinel/workbook";

const PAGE = readFileSync(path.resolve(__dirname, "..", "..", "docs", "sentinel.md"), "utf8");

/** The text of a `##`/`###` section, up to the next heading of any level. */
function section(heading: string): string {
  const start = PAGE.indexOf(`${heading}\n`);
  if (start < 0) throw new Error(`docs page has no heading ${heading}`);
  const rest = PAGE.slice(start + heading.length + 1);
  const end = rest.search(/^#{2,3} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** First-column cells (`name`) of the Markdown table rows in a text, with their row's type cell. */
function tableRows(text: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of text.split("\n")) {
    const cells = line.split("|").map((c) => c.trim());
    const name = /^`([^`]+)`$/.exec(cells[1] ?? "")?.[1];
    if (name) rows.set(name, cells[2] ?? "");
  }
  return rows;
}

describe("the Microsoft Sentinel page", () => {
  const typeOf = (name: string) => OFFICE_ACTIVITY_COLUMNS.find((c) => c.name === name)!.type;

  it("lists every column the function fills, with its type", () => {
    const rows = tableRows(section("### Columns filled from the record"));
    const filled = COLUMN_FILLS.filter((f) => "from" in f).map((f) => f.column);
    expect([...rows.keys()].sort()).toEqual([...filled].sort());
    for (const column of filled) expect(rows.get(column)).toBe(typeOf(column));
  });

  it("lists every column that stays empty, with the reason the code gives", () => {
    const text = section("### Columns that stay empty");
    const rows = tableRows(text);
    const empty = COLUMN_FILLS.filter((f) => "empty" in f);
    expect([...rows.keys()].sort()).toEqual(empty.map((f) => f.column).sort());
    for (const fill of empty) if ("empty" in fill) expect(text).toContain(fill.empty);
  });

  it("names the standard columns the function leaves out and its own extra columns", () => {
    const text = section("## The OfficeActivity-shaped function");
    for (const name of STANDARD_COLUMNS_NOT_EMITTED) expect(text).toContain(`\`${name}\``);
    for (const extra of EXTRA_COLUMNS) expect(text).toContain(`\`${extra.name}\``);
  });

  it("has a row per analytics rule and hunting query, and names every workbook panel", () => {
    const ruleRows = section("## Analytics rules")
      .split("\n")
      .filter((l) => /^\| [A-Z]/.test(l) && !l.startsWith("| rule"));
    expect(ruleRows).toHaveLength(ANALYTICS_RULES.length);
    const huntRows = section("## Hunting queries")
      .split("\n")
      .filter((l) => /^\| [A-Z]/.test(l) && !l.startsWith("| query"));
    expect(huntRows).toHaveLength(HUNTING_QUERIES.length);
    const workbook = section("## Workbook");
    const missing = WORKBOOK_QUERIES.filter((panel) => !workbook.includes(`**${panel.title}**`));
    expect(missing.map((panel) => panel.title)).toEqual([]);
  });
});
