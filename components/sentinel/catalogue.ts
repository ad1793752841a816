/**
 * Every KQL text the Sentinel content ships, in one typed list: the OfficeActivity-shaped function,
 * the ASIM-style audit event parser, the analytics rules, the hunting queries and the workbook panels. The tests parse and analyse each
 * one with Microsoft's Kusto analyser against the table's schema (and, for queries over the
 * function, against the function's declared output), so a misspelt column fails CI.
 */
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import { ANALYTICS_RULES, HUNTING_QUERIES } from "./analyticsRules";
import { asimAuditEventParserKql } from "./asimAuditEventParser";
import { DEFAULT_FUNCTION_ALIAS, officeActivityFunctionKql } from "./officeActivityFunction";
import { WORKBOOK_QUERIES } from "./workbook";

/** What a KQL text is. */
export type KqlKind =
  | "function"
  | "parser"
  | "analytics-rule"
  | "hunting-query"
  | "workbook"
  | "example";

export interface KqlEntry {
  /** `<kind>/<key>`, unique. */
  id: string;
  kind: KqlKind;
  /** Written against the default table and function names. */
  text: string;
}

/** A first query over the function for a person to paste into Log Analytics (`npm start` prints it). */
export const EXAMPLE_QUERY = `${DEFAULT_FUNCTION_ALIAS} | where TimeGenerated > ago(1d) | summarize Records = count() by OfficeWorkload, Operation | top 10 by Records`;

/** The catalogue, in a stable order. */
export function sentinelKqlCatalogue(): KqlEntry[] {
  return [
    { id: "function/office-activity", kind: "function", text: officeActivityFunctionKql() },
    { id: "parser/asim-audit-event", kind: "parser", text: asimAuditEventParserKql() },
    ...ANALYTICS_RULES.map((r) => ({
      id: `analytics-rule/${r.key}`,
      kind: "analytics-rule" as const,
      text: r.query,
    })),
    ...HUNTING_QUERIES.map((h) => ({
      id: `hunting-query/${h.key}`,
      kind: "hunting-query" as const,
      text: h.query,
    })),
    ...WORKBOOK_QUERIES.map((w) => ({
      id: `workbook/${w.key}`,
      kind: "workbook" as const,
      text: w.query,
    })),
    { id: "example/top-operations", kind: "example", text: EXAMPLE_QUERY },
  ];
}

/** Names a stack's KQL refers to. */
export interface KqlNames {
  tableName: string;
  functionAlias: string;
}

/**
 * A catalogue text with the default table and function names replaced by a stack's own (whole
 * identifiers only). The defaults give back the text unchanged.
 */
export function bindKql(text: string, names: KqlNames): string {
  return text
    .replace(new RegExp(`\\b${DEFAULT_TABLE_NAME}\\b`, "g"), names.tableName)
    .replace(new RegExp(`\\b${DEFAULT_FUNCTION_ALIAS}\\b`, "g"), names.functionAlias);
}
