import { describe, expect, it } from "vitest";
import {
  ASIM_AUDIT_EVENT_COLUMNS,
  ASIM_AUDIT_EVENT_REFERENCE_URL,
} from "../../components/sentinel/asimAuditEventColumns";
import {
  ASIM_EXTRA_COLUMNS,
  asimAuditEventParserKql,
  asimParserAliasFor,
} from "../../components/sentinel/asimAuditEventParser";
import { officeActivityFunctionKql } from "../../components/sentinel/officeActivityFunction";
import { analyzeQuery, auditTable, type WorkspaceSchema } from "./kusto";

const workspace: WorkspaceSchema = {
  tables: [auditTable()],
  functions: [{ name: "M365AuditOfficeActivity", body: officeActivityFunctionKql() }],
};

describe("the ASIM-style audit event parser", () => {
  const analysis = analyzeQuery(asimAuditEventParserKql(), workspace);
  const reference = new Map(ASIM_AUDIT_EVENT_COLUMNS.map((c) => [c.name, c.type]));

  it("cites the ASimAuditEventLogs table reference, whose columns are listed once each", () => {
    expect(ASIM_AUDIT_EVENT_REFERENCE_URL).toMatch(/\/tables\/asimauditeventlogs$/);
    expect(reference.size).toBe(ASIM_AUDIT_EVENT_COLUMNS.length);
    expect(reference.size).toBe(128);
  });

  it("analyses cleanly over the OfficeActivity-shaped function", () => {
    expect(analysis.diagnostics).toEqual([]);
  });

  it("emits each schema column with the schema's type, and only the declared extras besides", () => {
    const extras = new Map(ASIM_EXTRA_COLUMNS.map((c) => [c.name, c.type]));
    const problems = analysis.columns
      .filter((c) => (reference.get(c.name) ?? extras.get(c.name)) !== c.type)
      .map((c) => `${c.name}: ${c.type}, want ${reference.get(c.name) ?? extras.get(c.name)}`);
    expect(problems).toEqual([]);
    for (const extra of ASIM_EXTRA_COLUMNS) expect(reference.has(extra.name)).toBe(false);
    const names = analysis.columns.map((c) => c.name);
    for (const mandatory of [
      "TimeGenerated",
      "EventCount",
      "EventStartTime",
      "EventEndTime",
      "EventType",
      "EventResult",
      "EventProduct",
      "EventVendor",
      "EventSchemaVersion",
      "Operation",
      "Object",
      "ActorUsername",
      "SrcIpAddr",
    ]) {
      expect(names).toContain(mandatory);
    }
  });

  it("is named after the table, as the OfficeActivity-shaped function is", () => {
    expect(asimParserAliasFor("M365Audit_CL")).toBe("ASimAuditEventM365Audit");
    expect(asimParserAliasFor("Fabrikam365_CL")).toBe("ASimAuditEventFabrikam365");
  });
});
