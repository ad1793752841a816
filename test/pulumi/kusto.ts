/**
 * Kusto semantic analysis of a DCR transformation: the analyser of test/sentinel/kusto.ts, run
 * against a database whose only table is `source` with the stream's columns, which is how a DCR
 * evaluates its transformKql.
 */
import { analyzeQuery, type KqlColumn, type QueryAnalysis } from "../sentinel/kusto";

export type { KqlColumn };
/** What the analyser found: diagnostics (empty when valid) and the result's columns. */
export type TransformAnalysis = QueryAnalysis;

/** Analyses `kql` against the DCR's input stream, exposed to it as the table `source`. */
export function analyzeTransform(
  kql: string,
  streamColumns: readonly KqlColumn[],
): TransformAnalysis {
  return analyzeQuery(kql, { tables: [{ name: "source", columns: streamColumns }] });
}
