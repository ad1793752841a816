import { describe, expect, it } from "vitest";
import {
  OFFICE_ACTIVITY_COLUMNS,
  OFFICE_ACTIVITY_REFERENCE_URL,
} from "../../components/sentinel/officeActivityColumns";
import {
  COLUMN_FILLS,
  EXTRA_COLUMNS,
  functionAliasFor,
  officeActivityFunctionKql,
  STANDARD_COLUMNS_NOT_EMITTED,
} from "../../components/sentinel/officeActivityFunction";
import { RECORD_TYPE_NAMES, USER_TYPE_NAMES } from "../../domain/records";
import { analyzeQuery, auditTable } from "./kusto";

/** The columns the issue requires the function to fill from the record. */
const REQUIRED_FILLED = [
  "TimeGenerated",
  "OfficeId",
  "SourceRecordId",
  "RecordType",
  "Operation",
  "OfficeWorkload",
  "UserId",
  "UserKey",
  "UserType",
  "ClientIP",
  "Client_IPAddress",
  "ResultStatus",
  "OfficeObjectId",
  "OrganizationId",
  "ItemType",
  "Site_",
  "Site_Url",
  "SourceFileName",
  "SourceFileExtension",
  "SourceRelativeUrl",
  "DestinationFileName",
  "Parameters",
  "ExternalAccess",
  "ModifiedProperties",
  "MailboxOwnerUPN",
  "Logon_Type",
  "TeamName",
  "UserAgent",
  "AppId",
  "ClientAppId",
];

describe("the OfficeActivity reference data", () => {
  it("cites Microsoft's table reference and lists each column once with a Kusto type", () => {
    expect(OFFICE_ACTIVITY_REFERENCE_URL).toMatch(
      /^https:\/\/learn\.microsoft\.com\/.*\/tables\/officeactivity$/,
    );
    const names = OFFICE_ACTIVITY_COLUMNS.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(132);
    const types = new Set(OFFICE_ACTIVITY_COLUMNS.map((c) => c.type));
    expect([...types].sort()).toEqual(["bool", "datetime", "dynamic", "int", "real", "string"]);
  });
});

describe("the OfficeActivity-shaped function", () => {
  const analysis = analyzeQuery(officeActivityFunctionKql(), { tables: [auditTable()] });
  const output = new Map(analysis.columns.map((c) => [c.name, c.type]));
  const emitted = OFFICE_ACTIVITY_COLUMNS.filter(
    (c) => !STANDARD_COLUMNS_NOT_EMITTED.includes(c.name),
  );

  it("analyses cleanly against M365Audit_CL's columns from domain/table.ts", () => {
    expect(analysis.diagnostics).toEqual([]);
  });

  it("returns every OfficeActivity column it claims with OfficeActivity's name and type", () => {
    const mismatches = emitted
      .filter((c) => output.get(c.name) !== c.type)
      .map((c) => `${c.name}: want ${c.type}, got ${output.get(c.name) ?? "missing"}`);
    expect(mismatches).toEqual([]);
    expect(emitted).toHaveLength(126);
  });

  it("returns the OfficeActivity columns in reference order, then only the declared extras", () => {
    expect(analysis.columns.map((c) => c.name)).toEqual([
      ...emitted.map((c) => c.name),
      ...EXTRA_COLUMNS.map((c) => c.name),
    ]);
    for (const extra of EXTRA_COLUMNS) expect(output.get(extra.name)).toBe(extra.type);
    const reference = new Set(OFFICE_ACTIVITY_COLUMNS.map((c) => c.name));
    for (const extra of EXTRA_COLUMNS) expect(reference.has(extra.name)).toBe(false);
  });

  it("keeps the record's own time as a datetime column, CreationTime", () => {
    expect(output.get("CreationTime")).toBe("datetime");
    expect(officeActivityFunctionKql()).toContain("todatetime(AuditData.CreationTime)");
  });

  it("has exactly one fill per emitted column, and a reason for every empty one", () => {
    const fillNames = COLUMN_FILLS.map((f) => f.column);
    expect(new Set(fillNames).size).toBe(fillNames.length);
    expect([...fillNames].sort()).toEqual(emitted.map((c) => c.name).sort());
    for (const fill of COLUMN_FILLS) {
      if ("empty" in fill) expect(fill.empty.length).toBeGreaterThan(20);
    }
  });

  it("fills every column the issue names from the record", () => {
    const filled = new Set(COLUMN_FILLS.filter((f) => "from" in f).map((f) => f.column));
    expect(REQUIRED_FILLED.filter((c) => !filled.has(c))).toEqual([]);
  });

  it("uses enum names for RecordType and UserType, the newer UserType members included", () => {
    const kql = officeActivityFunctionKql();
    expect(kql).toContain('"1":"ExchangeAdmin"');
    expect(kql).toContain('"261":"CopilotInteraction"');
    expect(kql).toContain('"9":"PartnerTechnician"');
    expect(kql).toContain('"10":"Guest"');
    expect(USER_TYPE_NAMES[0]).toBe("Regular");
  });

  it("maps every record type and user type the domain names, with the same name", () => {
    const kql = officeActivityFunctionKql();
    for (const [value, name] of Object.entries(RECORD_TYPE_NAMES)) {
      expect(kql).toContain(`"${value}":"${name}"`);
    }
    for (const [value, name] of Object.entries(USER_TYPE_NAMES)) {
      expect(kql).toContain(`"${value}":"${name}"`);
    }
  });

  it("reads another table when the stack names one, under an alias derived from it", () => {
    const kql = officeActivityFunctionKql("Fabrikam365_CL");
    expect(analyzeQuery(kql, { tables: [auditTable("Fabrikam365_CL")] }).diagnostics).toEqual([]);
    expect(functionAliasFor("M365Audit_CL")).toBe("M365AuditOfficeActivity");
    expect(functionAliasFor("Fabrikam365_CL")).toBe("Fabrikam365OfficeActivity");
  });
});
