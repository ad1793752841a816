/**
 * Kusto semantic analysis of workspace queries with Microsoft's Kusto parser for JavaScript: a
 * database holding tables (name + columns) and saved functions (name + body), the way a Log
 * Analytics workspace presents them to a query. The package is a Bridge.NET script bundle: its
 * runtime (`bridge.js`) must load first, and loading it defines the global `Kusto` namespace
 * instead of exporting anything.
 */
import "@kusto/language-service-next/bridge.js";
import "@kusto/language-service-next";
import { DEFAULT_TABLE_NAME, TABLE_COLUMNS } from "../../domain/table";

export interface KqlColumn {
  name: string;
  type: string;
}

export interface WorkspaceSchema {
  tables: { name: string; columns: readonly KqlColumn[] }[];
  /** Parameterless functions: alias and body. */
  functions?: { name: string; body: string }[];
}

export interface QueryAnalysis {
  /** Error messages with their offsets; empty when the query is valid. */
  diagnostics: string[];
  /** Columns of the query's tabular result, in order. */
  columns: KqlColumn[];
}

/**
 * Columns Log Analytics adds to every table, custom ones included
 * (https://learn.microsoft.com/en-us/azure/azure-monitor/logs/log-standard-columns).
 */
export const STANDARD_COLUMNS: readonly KqlColumn[] = [
  { name: "TenantId", type: "string" },
  { name: "Type", type: "string" },
  { name: "_ResourceId", type: "string" },
  { name: "_SubscriptionId", type: "string" },
  { name: "_BilledSize", type: "real" },
  { name: "_IsBillable", type: "string" },
];

/** Kusto's names for the table types domain/table.ts uses. */
function kustoType(type: string): string {
  if (type === "dateTime") return "datetime";
  if (type === "boolean") return "bool";
  return type;
}

/** The AuditBridge table as a workspace shows it: domain/table.ts's columns plus the standard ones. */
export function auditTable(name: string = DEFAULT_TABLE_NAME): {
  name: string;
  columns: KqlColumn[];
} {
  return {
    name,
    columns: [
      ...TABLE_COLUMNS.map((c) => ({ name: c.name, type: kustoType(c.type) })),
      ...STANDARD_COLUMNS,
    ],
  };
}

/**
 * The console-log table the Container Apps environment's diagnostic setting writes to (the
 * `azure-monitor` logs destination, resource-specific table): the columns the workbook reads.
 * https://learn.microsoft.com/en-us/azure/azure-monitor/reference/tables/containerappconsolelogs
 */
export const CONTAINER_APP_CONSOLE_LOGS = {
  name: "ContainerAppConsoleLogs",
  columns: [
    { name: "TimeGenerated", type: "datetime" },
    { name: "ContainerAppName", type: "string" },
    { name: "ContainerGroupId", type: "string" },
    { name: "ContainerGroupName", type: "string" },
    { name: "ContainerId", type: "string" },
    { name: "ContainerImage", type: "string" },
    { name: "ContainerName", type: "string" },
    { name: "EnvironmentName", type: "string" },
    { name: "JobName", type: "string" },
    { name: "Location", type: "string" },
    { name: "Log", type: "string" },
    { name: "OperationName", type: "string" },
    { name: "RevisionName", type: "string" },
    { name: "Stream", type: "string" },
    ...STANDARD_COLUMNS,
  ],
};

// One analyser state per schema object: building it (and analysing function bodies) is the slow part.
const globalsBySchema = new WeakMap<WorkspaceSchema, Kusto.Language.GlobalState>();

function tableSymbol(name: string, columns: readonly KqlColumn[]): Kusto.Language.Symbols.Symbol {
  return new Kusto.Language.Symbols.TableSymbol.$ctor7(
    name,
    `(${columns.map((c) => `['${c.name}']:${c.type}`).join(", ")})`,
    null,
  );
}

/**
 * The analyser state of a workspace. A parameterless function is declared as what it returns: a
 * tabular symbol with the columns the analyser finds for its body against the tables (a body with
 * diagnostics throws, so a broken function cannot make its callers look fine).
 */
function globalsFor(schema: WorkspaceSchema): Kusto.Language.GlobalState {
  const cached = globalsBySchema.get(schema);
  if (cached) return cached;
  const K = Kusto.Language;
  const tablesOnly: WorkspaceSchema = { tables: schema.tables };
  const members = schema.tables.map((t) => tableSymbol(t.name, t.columns));
  for (const f of schema.functions ?? []) {
    const body = analyzeQuery(f.body, tablesOnly);
    if (body.diagnostics.length > 0) {
      throw new Error(`function ${f.name} does not analyse: ${body.diagnostics.join("; ")}`);
    }
    members.push(tableSymbol(f.name, body.columns));
  }
  const database = new K.Symbols.DatabaseSymbol.ctor("workspace", members);
  const globals = K.GlobalState.Default!.WithDatabase(database)!;
  globalsBySchema.set(schema, globals);
  return globals;
}

/** Parses and analyses `kql` against a workspace with the given tables and functions. */
export function analyzeQuery(kql: string, schema: WorkspaceSchema): QueryAnalysis {
  const K = Kusto.Language;
  const code = K.KustoCode.ParseAndAnalyze(kql, globalsFor(schema))!;
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
