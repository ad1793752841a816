/**
 * Markdown building blocks for the generated pages. Output is already in the shape `biome check`
 * formats Markdown to (tables padded to their widest cell), so a generated page passes the lint
 * exactly as written.
 */

/** Escapes text for one Markdown table cell. */
export function escapeCell(text: string): string {
  return text.replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** Length in characters (code points), the unit the table padding is counted in. */
function width(text: string): number {
  return [...text].length;
}

/**
 * A Markdown table, one string per line. `header` is plain text; `rows` are Markdown (inline code,
 * emphasis) and are escaped for `|` and newlines. Every row must have as many cells as the header.
 */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string[] {
  const cells = [header.map(escapeCell), ...rows.map((row) => row.map(escapeCell))];
  for (const [index, row] of cells.entries()) {
    if (row.length !== header.length) {
      throw new Error(
        `table row ${index} has ${row.length} cells; the header has ${header.length}`,
      );
    }
  }
  const widths = header.map((_, column) =>
    Math.max(3, ...cells.map((row) => width(row[column] ?? ""))),
  );
  const line = (row: readonly string[]) =>
    `| ${row.map((text, column) => text + " ".repeat(widths[column]! - width(text))).join(" | ")} |`;
  const [head, ...body] = cells;
  return [line(head!), line(widths.map((n) => "-".repeat(n))), ...body.map(line)];
}
