import { streamColumnType, TABLE_COLUMNS, type TableColumn } from "../domain/table";
/**
 * Table and DCR stream shapes derived from domain/table.ts, the single source of truth
 * the collector's row mapping also uses. The transformation is an explicit projection of every
 * table column (rather than the bare `source`), so a column that exists in the stream but not in
 * the table, or the reverse, is caught by the KQL check in the tests instead of at ingestion.
 */

/** Table schema columns as `operationalinsights.Table` takes them. */
export function tableSchemaColumns(
  columns: readonly TableColumn[] = TABLE_COLUMNS,
): { name: string; type: string; description: string }[] {
  return columns.map((c) => ({ name: c.name, type: c.type, description: c.description }));
}

/** Stream declaration columns as `monitor.DataCollectionRule` takes them. */
export function streamDeclarationColumns(
  columns: readonly TableColumn[] = TABLE_COLUMNS,
): { name: string; type: string }[] {
  return columns.map((c) => ({ name: c.name, type: streamColumnType(c.type) }));
}

/** `source | project <every column>`. */
export function projectionKql(columns: readonly TableColumn[] = TABLE_COLUMNS): string {
  return `source | project ${columns.map((c) => c.name).join(", ")}`;
}

/** Output stream of a custom table: `Custom-<table>`. */
export function outputStreamFor(tableName: string): string {
  return `Custom-${tableName}`;
}
