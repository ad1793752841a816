import { describe, expect, it } from "vitest";
import { projectionKql, streamDeclarationColumns } from "../../components/dcrSchema";
import { ANALYTICS_RULES, HUNTING_QUERIES } from "../../components/sentinel/analyticsRules";
import { bindKql, type KqlEntry, sentinelKqlCatalogue } from "../../components/sentinel/catalogue";
import {
  DEFAULT_FUNCTION_ALIAS,
  functionAliasFor,
  officeActivityFunctionKql,
} from "../../components/sentinel/officeActivityFunction";
import { WORKBOOK_QUERIES } from "../../components/sentinel/workbook";
import { DEFAULT_TABLE_NAME } from "../../domain/table";
import { recordsQuery } from "../../scripts/verify/probes/workspace";
import {
  analyzeQuery,
  auditTable,
  CONTAINER_APP_CONSOLE_LOGS,
  type KqlColumn,
  type WorkspaceSchema,
} from "./kusto";

/** The workspace every shipped query runs in: the table, the function, the collector's logs. */
const workspaces = new Map<string, WorkspaceSchema>();
function workspace(tableName = DEFAULT_TABLE_NAME): WorkspaceSchema {
  const known = workspaces.get(tableName);
  if (known) return known;
  const schema: WorkspaceSchema = {
    tables: [auditTable(tableName), CONTAINER_APP_CONSOLE_LOGS],
    functions: [{ name: functionAliasFor(tableName), body: officeActivityFunctionKql(tableName) }],
  };
  workspaces.set(tableName, schema);
  return schema;
}

/** The whole catalogue plus the KQL other parts of the project ship. */
interface CheckedText {
  id: string;
  text: string;
  schema: WorkspaceSchema;
}

const tableOnly: WorkspaceSchema = { tables: [auditTable()] };

function everyShippedKql(): CheckedText[] {
  const entries: CheckedText[] = sentinelKqlCatalogue().map((e: KqlEntry) => ({
    id: e.id,
    text: e.text,
    // The function body sees the table only; everything else sees the whole workspace.
    schema: e.kind === "function" ? tableOnly : workspace(),
  }));
  // The DCR transformation runs against the stream, exposed to it as the table `source`.
  entries.push({
    id: "dcr/transform",
    text: projectionKql(),
    schema: { tables: [{ name: "source", columns: streamDeclarationColumns() }] },
  });
  entries.push({ id: "verify/records", text: recordsQuery(24), schema: workspace() });
  entries.push({
    id: "verify/records-basic",
    text: recordsQuery(24, "Basic"),
    schema: tableOnly,
  });
  return entries;
}

describe("every KQL text AuditBridge ships", () => {
  const texts = everyShippedKql();

  it("includes the function, the parser, 7 rules, the hunting queries, the workbook panels, the DCR transform and verify's query", () => {
    expect(texts.filter((t) => t.id.startsWith("analytics-rule/"))).toHaveLength(7);
    expect(texts.filter((t) => t.id.startsWith("hunting-query/"))).toHaveLength(
      HUNTING_QUERIES.length,
    );
    expect(texts.filter((t) => t.id.startsWith("workbook/"))).toHaveLength(WORKBOOK_QUERIES.length);
    expect(texts.map((t) => t.id)).toEqual(
      expect.arrayContaining([
        "function/office-activity",
        "parser/asim-audit-event",
        "dcr/transform",
        "verify/records",
        "example/top-operations",
      ]),
    );
    expect(new Set(texts.map((t) => t.id)).size).toBe(texts.length);
  });

  it.each(texts.map((t) => [t.id, t] as const))("%s parses and analyses cleanly", (_id, t) => {
    const analysis = analyzeQuery(t.text, t.schema);
    expect(analysis.diagnostics).toEqual([]);
    expect(analysis.columns.length).toBeGreaterThan(0);
  });

  it("reports a misspelt column in a rule, a workbook panel and the function body", () => {
    const rule = ANALYTICS_RULES[0]!.query.replace("Client_IPAddress", "Client_IPAdress");
    expect(analyzeQuery(rule, workspace()).diagnostics.join("\n")).toMatch(/Client_IPAdress/);
    const panel = WORKBOOK_QUERIES[0]!.query.replace("Workload", "WorkLoadd");
    expect(analyzeQuery(panel, workspace()).diagnostics.join("\n")).toMatch(/WorkLoadd/);
    const body = officeActivityFunctionKql().replace("ObjectId,", "ObjectID,");
    expect(analyzeQuery(body, { tables: [auditTable()] }).diagnostics.length).toBeGreaterThan(0);
  });

  it("refuses to check callers of a function whose body does not analyse", () => {
    const broken: WorkspaceSchema = {
      tables: [auditTable()],
      functions: [
        {
          name: DEFAULT_FUNCTION_ALIAS,
          body: officeActivityFunctionKql().replace("= Workload,", "= Workloadd,"),
        },
      ],
    };
    expect(() => analyzeQuery(ANALYTICS_RULES[0]!.query, broken)).toThrow(
      /function M365AuditOfficeActivity does not analyse: .*Workloadd/,
    );
  });

  it("reports a rule column that only OfficeActivity-the-table has, not the function", () => {
    // `Type` is a standard column the function does not re-emit.
    const query = `${DEFAULT_FUNCTION_ALIAS} | where Type == "OfficeActivity"`;
    expect(analyzeQuery(query, workspace()).diagnostics.join("\n")).toMatch(/Type/);
  });
});

describe("rules and hunting queries", () => {
  const ws = workspace();
  const resultOf = (query: string): KqlColumn[] => analyzeQuery(query, ws).columns;

  it.each(ANALYTICS_RULES.map((r) => [r.key, r] as const))(
    "%s returns every column its entity mappings name",
    (_key, rule) => {
      const names = resultOf(rule.query).map((c) => c.name);
      for (const mapping of rule.entityMappings) {
        for (const field of mapping.fieldMappings) expect(names).toContain(field.columnName);
      }
    },
  );

  it("read the OfficeActivity-shaped function, never the raw table", () => {
    for (const q of [...ANALYTICS_RULES, ...HUNTING_QUERIES]) {
      expect(q.query).toContain(DEFAULT_FUNCTION_ALIAS);
      expect(q.query).not.toMatch(new RegExp(`\\b${DEFAULT_TABLE_NAME}\\b`));
    }
  });

  it("have unique keys and a tactic and technique each (hunting may omit them)", () => {
    expect(new Set(ANALYTICS_RULES.map((r) => r.key)).size).toBe(ANALYTICS_RULES.length);
    expect(new Set(HUNTING_QUERIES.map((h) => h.key)).size).toBe(HUNTING_QUERIES.length);
    for (const r of ANALYTICS_RULES) {
      expect(r.tactics.length).toBeGreaterThan(0);
      expect(r.techniques.length).toBeGreaterThan(0);
      for (const t of r.techniques) expect(t).toMatch(/^T\d{4}(\.\d{3})?$/);
      expect(r.queryFrequency).toMatch(/^PT\d+[HM]$/);
      expect(r.queryPeriod).toMatch(/^PT\d+[HM]$/);
    }
  });
});

describe("bindKql", () => {
  const names = { tableName: "Fabrikam365_CL", functionAlias: functionAliasFor("Fabrikam365_CL") };

  it("leaves texts unchanged for the default names", () => {
    for (const e of sentinelKqlCatalogue()) {
      expect(
        bindKql(e.text, { tableName: DEFAULT_TABLE_NAME, functionAlias: DEFAULT_FUNCTION_ALIAS }),
      ).toBe(e.text);
    }
  });

  it("renames table and function so the texts analyse cleanly in a workspace with other names", () => {
    expect(names.functionAlias).toBe("Fabrikam365OfficeActivity");
    const ws = workspace("Fabrikam365_CL");
    for (const e of sentinelKqlCatalogue().filter((x) => x.kind !== "function")) {
      const bound = bindKql(e.text, names);
      expect(bound).not.toContain(DEFAULT_TABLE_NAME);
      expect(bound).not.toContain(DEFAULT_FUNCTION_ALIAS);
      expect({ id: e.id, diagnostics: analyzeQuery(bound, ws).diagnostics }).toEqual({
        id: e.id,
        diagnostics: [],
      });
    }
  });
});
