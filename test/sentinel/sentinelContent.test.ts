import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { uuidV5 } from "../../components/naming";
import { ANALYTICS_RULES, HUNTING_QUERIES } from "../../components/sentinel/analyticsRules";
import { asimAuditEventParserKql } from "../../components/sentinel/asimAuditEventParser";
import { officeActivityFunctionKql } from "../../components/sentinel/officeActivityFunction";
import { WORKBOOK_QUERIES } from "../../components/sentinel/workbook";
import { installMocks, type Recorder, settle } from "../pulumi/mocks";
import { analyzeQuery, auditTable, CONTAINER_APP_CONSOLE_LOGS } from "./kusto";

const RG = "rg-auditbridge-contoso";
const WORKSPACE_ID = `/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/${RG}/providers/Microsoft.OperationalInsights/workspaces/log-contoso`;
const SAVED_SEARCH = "azure-native:operationalinsights:SavedSearch";
const ONBOARDING = "azure-native:securityinsights:SentinelOnboardingState";
const RULE = "azure-native:securityinsights:ScheduledAlertRule";
const WORKBOOK = "azure-native:applicationinsights:Workbook";

/** Resource options as the component handed them to Pulumi, keyed by resource name. */
const options = new Map<string, pulumi.ResourceOptions>();
const recordOptions: pulumi.ResourceTransformation = (args) => {
  options.set(args.name, args.opts);
  return undefined;
};
const dependsOnNames = (name: string): string[] =>
  ((options.get(name)?.dependsOn as pulumi.Resource[] | undefined) ?? []).map(
    (r) => (r as unknown as { __name: string }).__name,
  );

let recorder: Recorder;
const argErrors: string[] = [];

beforeAll(async () => {
  recorder = await installMocks();
  const { SentinelContent } = await import("../../components/sentinelContent");
  // Stands in for the custom table the function must wait for.
  const table = new (class Table extends pulumi.CustomResource {
    constructor() {
      super("test:index:Table", "the-table", {});
    }
  })();
  const common = {
    resourceGroupName: RG,
    workspaceName: "log-contoso",
    workspaceResourceId: WORKSPACE_ID,
    location: "westeurope",
    dependsOn: [table],
  };
  new SentinelContent(
    "on",
    { ...common, sentinel: { enabled: true, onboarding: "create", rulesEnabled: true } },
    { transformations: [recordOptions] },
  );
  new SentinelContent(
    "existing",
    {
      ...common,
      tableName: "Fabrikam365_CL",
      sentinel: { enabled: true, onboarding: "existing", rulesEnabled: false },
    },
    { transformations: [recordOptions] },
  );
  new SentinelContent(
    "off",
    { ...common, sentinel: { enabled: false } },
    { transformations: [recordOptions] },
  );
  try {
    new SentinelContent("bad", { ...common, tableName: "M365Audit", sentinel: { enabled: false } });
    argErrors.push("no error");
  } catch (error) {
    argErrors.push((error as Error).message);
  }
  await settle();
});

describe("SentinelContent with sentinel on", () => {
  it("saves the OfficeActivity-shaped function with its alias, over the table, after the table", () => {
    const fn = recorder.one(SAVED_SEARCH, "on-function");
    expect(fn.inputs).toMatchObject({
      resourceGroupName: RG,
      workspaceName: "log-contoso",
      savedSearchId: "auditbridge-m365auditofficeactivity",
      category: "AuditBridge",
      functionAlias: "M365AuditOfficeActivity",
      query: officeActivityFunctionKql(),
      version: 2,
    });
    expect(fn.inputs.functionParameters).toBeUndefined();
    expect(dependsOnNames("on-function")).toEqual(["the-table"]);
    expect(options.get("on-function")?.parent).toBeDefined();
  });

  it("onboards the workspace as `default` and keeps the onboarding when the stack goes away", () => {
    const onboarding = recorder.one(ONBOARDING, "on-onboarding");
    expect(onboarding.inputs).toEqual({
      resourceGroupName: RG,
      workspaceName: "log-contoso",
      sentinelOnboardingStateName: "default",
    });
    expect(options.get("on-onboarding")?.retainOnDelete).toBe(true);
  });

  it("saves the ASIM-style audit event parser as a function over the function", () => {
    const parser = recorder.one(SAVED_SEARCH, "on-asim-parser");
    expect(parser.inputs).toMatchObject({
      category: "ASIM",
      functionAlias: "ASimAuditEventM365Audit",
      query: asimAuditEventParserKql(),
      version: 2,
    });
    expect(dependsOnNames("on-asim-parser")).toEqual(["on-function"]);
  });

  it("creates every rule enabled, after the onboarding and the function", () => {
    const rules = recorder.ofType(RULE, "on-rule-");
    expect(rules.map((r) => r.name).sort()).toEqual(
      ANALYTICS_RULES.map((r) => `on-rule-${r.key}`).sort(),
    );
    for (const rule of ANALYTICS_RULES) {
      const created = recorder.one(RULE, `on-rule-${rule.key}`);
      expect(created.inputs).toMatchObject({
        kind: "Scheduled",
        enabled: true,
        ruleId: uuidV5(`M365AuditOfficeActivity|rule|${rule.key}`),
        displayName: rule.displayName,
        query: rule.query,
        queryFrequency: rule.queryFrequency,
        queryPeriod: rule.queryPeriod,
        severity: rule.severity,
        triggerOperator: "GreaterThan",
        triggerThreshold: 0,
        tactics: rule.tactics,
        entityMappings: rule.entityMappings,
        incidentConfiguration: { createIncident: true },
      });
      for (const technique of created.inputs.techniques as string[]) {
        expect(technique).toMatch(/^T\d{4}$/);
      }
      expect(dependsOnNames(`on-rule-${rule.key}`)).toEqual(["on-onboarding", "on-function"]);
    }
  });

  it("sends sub-techniques as their parent technique, once", () => {
    const mailbox = recorder.one(RULE, "on-rule-mailbox-permission-granted");
    expect(mailbox.inputs.techniques).toEqual(["T1098"]);
  });

  it("saves the hunting queries in the Hunting Queries category with tactics tags", () => {
    const hunts = recorder.ofType(SAVED_SEARCH, "on-hunting-");
    expect(hunts).toHaveLength(HUNTING_QUERIES.length);
    for (const hunt of HUNTING_QUERIES) {
      const saved = recorder.one(SAVED_SEARCH, `on-hunting-${hunt.key}`);
      expect(saved.inputs).toMatchObject({
        category: "Hunting Queries",
        displayName: hunt.displayName,
        query: hunt.query,
      });
      expect(saved.inputs.functionAlias).toBeUndefined();
      expect(saved.inputs.tags).toContainEqual({ name: "tactics", value: hunt.tactics.join(",") });
      expect(dependsOnNames(`on-hunting-${hunt.key}`)).toEqual(["on-onboarding", "on-function"]);
    }
  });

  it("deploys a shared Sentinel workbook over the workspace whose panels are the catalogue's", () => {
    const workbook = recorder.one(WORKBOOK, "on-workbook");
    expect(workbook.inputs).toMatchObject({
      resourceGroupName: RG,
      location: "westeurope",
      kind: "shared",
      category: "sentinel",
      sourceId: WORKSPACE_ID,
      version: "Notebook/1.0",
      resourceName: uuidV5(`${WORKSPACE_ID.toLowerCase()}|M365AuditOfficeActivity|workbook`),
    });
    const data = JSON.parse(workbook.inputs.serializedData as string) as {
      version: string;
      fallbackResourceIds: string[];
      items: { type: number; content: { query?: string; crossComponentResources?: string[] } }[];
    };
    expect(data.version).toBe("Notebook/1.0");
    expect(data.fallbackResourceIds).toEqual([WORKSPACE_ID]);
    const queries = data.items.filter((i) => i.type === 3);
    expect(queries.map((q) => q.content.query)).toEqual(WORKBOOK_QUERIES.map((q) => q.query));
    for (const q of queries) expect(q.content.crossComponentResources).toEqual([WORKSPACE_ID]);
    expect(dependsOnNames("on-workbook")).toEqual(["on-onboarding", "on-function"]);
  });

  it("uses the stack's default Azure provider, like the components around it", () => {
    const children = recorder.resources.filter((r) => r.name.startsWith("on-"));
    // function, onboarding, parser, rules, hunting queries, workbook
    expect(children.length).toBe(1 + 1 + 1 + ANALYTICS_RULES.length + HUNTING_QUERIES.length + 1);
    for (const child of children) expect(child.provider || undefined).toBeUndefined();
  });

  it("parents every child to the component", () => {
    for (const name of [...options.keys()].filter((n) => n.startsWith("on-"))) {
      const parent = options.get(name)?.parent as unknown as { __name: string } | undefined;
      expect({ name, parent: parent?.__name }).toEqual({ name, parent: "on" });
    }
  });
});

describe("SentinelContent with an existing onboarding and another table", () => {
  it("creates no onboarding and makes the rules wait for the function only", () => {
    expect(recorder.ofType(ONBOARDING, "existing")).toHaveLength(0);
    for (const rule of ANALYTICS_RULES) {
      expect(dependsOnNames(`existing-rule-${rule.key}`)).toEqual(["existing-function"]);
    }
  });

  it("creates the rules disabled when rulesEnabled is false", () => {
    const rules = recorder.ofType(RULE, "existing-rule-");
    expect(rules).toHaveLength(ANALYTICS_RULES.length);
    for (const r of rules) expect(r.inputs.enabled).toBe(false);
  });

  it("points every query at the stack's table and function, and the ids at its alias", () => {
    const fn = recorder.one(SAVED_SEARCH, "existing-function");
    expect(fn.inputs.functionAlias).toBe("Fabrikam365OfficeActivity");
    const parser = recorder.one(SAVED_SEARCH, "existing-asim-parser");
    expect(parser.inputs.functionAlias).toBe("ASimAuditEventFabrikam365");
    const ws = {
      tables: [auditTable("Fabrikam365_CL"), CONTAINER_APP_CONSOLE_LOGS],
      functions: [{ name: "Fabrikam365OfficeActivity", body: fn.inputs.query as string }],
    };
    const texts = [
      ...recorder.ofType(RULE, "existing-rule-").map((r) => r.inputs.query as string),
      ...recorder.ofType(SAVED_SEARCH, "existing-hunting-").map((r) => r.inputs.query as string),
      parser.inputs.query as string,
    ];
    expect(texts).toHaveLength(ANALYTICS_RULES.length + HUNTING_QUERIES.length + 1);
    for (const text of texts) {
      expect(text).toContain("Fabrikam365OfficeActivity");
      expect(analyzeQuery(text, ws).diagnostics).toEqual([]);
    }
    const rule = recorder.one(RULE, `existing-rule-${ANALYTICS_RULES[0]!.key}`);
    expect(rule.inputs.ruleId).toBe(
      uuidV5(`Fabrikam365OfficeActivity|rule|${ANALYTICS_RULES[0]!.key}`),
    );
    const workbook = recorder.one(WORKBOOK, "existing-workbook");
    expect(workbook.inputs.resourceName).toBe(
      uuidV5(`${WORKSPACE_ID.toLowerCase()}|Fabrikam365OfficeActivity|workbook`),
    );
    expect(workbook.inputs.resourceName).not.toBe(
      recorder.one(WORKBOOK, "on-workbook").inputs.resourceName,
    );
    expect(workbook.inputs.serializedData).toContain("Fabrikam365_CL");
    expect(workbook.inputs.serializedData).not.toContain("M365Audit_CL");
  });
});

describe("SentinelContent with sentinel off", () => {
  it("still saves the function, and nothing Sentinel", () => {
    expect(recorder.ofType(SAVED_SEARCH, "off-function")).toHaveLength(1);
    expect(recorder.ofType(SAVED_SEARCH, "off-hunting-")).toHaveLength(0);
    expect(recorder.ofType(SAVED_SEARCH, "off-asim-parser")).toHaveLength(0);
    expect(recorder.ofType(ONBOARDING, "off")).toHaveLength(0);
    expect(recorder.ofType(RULE, "off")).toHaveLength(0);
    expect(recorder.ofType(WORKBOOK, "off")).toHaveLength(0);
  });
});

describe("SentinelContent arguments", () => {
  it("refuses a table name that is not a custom table, before creating anything", () => {
    expect(argErrors).toEqual([
      expect.stringMatching(/^SentinelContent bad: tableName must .* \(got M365Audit\)$/),
    ]);
    expect(recorder.resources.filter((r) => r.name.startsWith("bad"))).toHaveLength(0);
  });
});
