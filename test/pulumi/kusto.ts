/**
 * Kusto semantic analysis of a DCR transformation with Microsoft's Kusto parser for JavaScript.
 * The package is a Bridge.NET script bundle: its runtime (`bridge.js`) must load first, and
 * loading it defines the global `Kusto` namespace instead of exporting anything.
 */
import "@kusto/language-service-next/bridge.js";
import "@kusto/language-service-next";

/** A column as a DCR stream declaration or a query result names it. */
export interface KqlColumn {
  name: string;
  type: string;
}

/** What the analyser found. */
export interface TransformAnalysis {
  /** Error messages with their offsets; empty when the query is valid against `source`. */
  diagnostics: string[];
  /** Columns of the query's result, in order. */
  columns: KqlColumn[];
}

/**
 * Analyses `kql` against a database whose only table is `source` with the stream's columns,
 * which is how a DCR evaluates its transformKql.
 */
export function analyzeTransform(
  kql: string,
  streamColumns: readonly KqlColumn[],
): TransformAnalysis {
  const K = Kusto.Language;
  const schema = `(${streamColumns.map((c) => `${c.name}:${c.type}`).join(", ")})`;
  const source = new K.Symbols.TableSymbol.$ctor7("source", schema, null);
  const database = new K.Symbols.DatabaseSymbol.ctor("dcr", [source]);
  const globals = K.GlobalState.Default!.WithDatabase(database);
  const code = K.KustoCode.ParseAndAnalyze(kql, globals)!;
  const found = code.GetDiagnostics()!;
  const diagnostics: string[] = [];
  for (let i = 0; i < found.Count; i++) {
    const d = found.getItem(i)!;
    diagnostics.push(`${d.Message} (at ${d.Start})`);
  }
  const columns: KqlColumn[] = [];
  const result = code.ResultType;
  if (result instanceof K.Symbols.TableSymbol) {
    const cols = result.Columns!;
    for (let i = 0; i < cols.Count; i++) {
      const c = cols.getItem(i)!;
      columns.push({ name: c.Name!, type: c.Type!.Name! });
    }
  }
  return { diagnostics, columns };
}
