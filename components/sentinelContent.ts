/**
 * SentinelContent: makes the AuditBridge table useful in Microsoft Sentinel. Always deploys the
 * OfficeActivity-shaped function (a saved search with a function alias); with `sentinel.enabled`
 * it also onboards the workspace to Sentinel (or uses an existing onboarding) and deploys the
 * ASIM-style audit event parser, the scheduled analytics rules, the hunting queries and the workbook. docs/sentinel.md describes it all.
 */
import * as applicationinsights from "@pulumi/azure-native/applicationinsights";
import * as operationalinsights from "@pulumi/azure-native/operationalinsights";
import * as securityinsights from "@pulumi/azure-native/securityinsights";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_TABLE_NAME } from "../domain/table";
import { uuidV5 } from "./naming";
import { ANALYTICS_RULES, HUNTING_QUERIES } from "./sentinel/analyticsRules";
import { asimAuditEventParserKql, asimParserAliasFor } from "./sentinel/asimAuditEventParser";
import { bindKql } from "./sentinel/catalogue";
import { functionAliasFor, officeActivityFunctionKql } from "./sentinel/officeActivityFunction";
import { WORKBOOK_QUERIES, workbookJson } from "./sentinel/workbook";
import { tableNameProblem } from "./validators";

/** Sentinel onboarding and content; `enabled: false` deploys only the function. */
export type SentinelArgs =
  | { enabled: false }
  | {
      enabled: true;
      /**
       * `create`: onboard the workspace (SentinelOnboardingState `default`). `existing`: the
       * workspace is already onboarded (by another stack or the portal); nothing is created for it.
       */
      onboarding: "create" | "existing";
      /** Create the analytics rules enabled (alerts start at once) or disabled (review first). */
      rulesEnabled: boolean;
    };

/** Arguments of {@link SentinelContent}. */
export interface SentinelContentArgs {
  /** Resource group of the workspace. */
  resourceGroupName: pulumi.Input<string>;
  /** Workspace name. */
  workspaceName: pulumi.Input<string>;
  /** Full resource id of the workspace (the workbook's source). */
  workspaceResourceId: pulumi.Input<string>;
  /** Region of the workspace (the workbook lives there too). */
  location: pulumi.Input<string>;
  /** The AuditBridge table; defaults to M365Audit_CL. */
  tableName?: string;
  /** Whether and how to deploy the Sentinel content beyond the function. */
  sentinel: SentinelArgs;
  /**
   * Resources the function must wait for: the custom table, which must exist before a function
   * over it can be saved.
   */
  dependsOn?: pulumi.Resource[];
  /** Azure tags for the workbook (the only taggable Azure resource here). */
  tags?: Readonly<Record<string, string>>;
}

/** Saved-search category of the function (shown under "Functions" → this category). */
export const FUNCTION_CATEGORY = "AuditBridge";
/** Saved-search category of the ASIM-style parser. */
export const PARSER_CATEGORY = "ASIM";
/** Sentinel lists saved searches of this category as hunting queries. */
export const HUNTING_CATEGORY = "Hunting Queries";
/** Workbook category that makes Sentinel list it under Workbooks. */
export const WORKBOOK_CATEGORY = "sentinel";

/** The parent technique of an ATT&CK (sub-)technique id: `T1098.002` → `T1098`. */
export function parentTechnique(id: string): string {
  return id.replace(/\..*$/, "");
}

/**
 * OfficeActivity-shaped function, and (with Sentinel) onboarding, rules, hunting queries, workbook.
 */
export class SentinelContent extends pulumi.ComponentResource {
  /** The function's alias: query it like a table. */
  public readonly functionAlias: string;
  /** Resource id of the function's saved search. */
  public readonly functionId: pulumi.Output<string>;
  /** Ids of the analytics rules (empty without Sentinel). */
  public readonly ruleIds: pulumi.Output<string>[];
  /** Resource id of the workbook (undefined without Sentinel). */
  public readonly workbookId?: pulumi.Output<string>;

  constructor(name: string, args: SentinelContentArgs, opts?: pulumi.ComponentResourceOptions) {
    const tableName = args.tableName ?? DEFAULT_TABLE_NAME;
    const problem = tableNameProblem(tableName);
    if (problem)
      throw new Error(`SentinelContent ${name}: tableName ${problem} (got ${tableName})`);
    super("auditbridge:sentinel:SentinelContent", name, {}, opts);

    const functionAlias = functionAliasFor(tableName);
    const names = { tableName, functionAlias };
    const workspace = {
      resourceGroupName: args.resourceGroupName,
      workspaceName: args.workspaceName,
    };
    // Ids derive from the function alias, so two AuditBridge tables in one workspace never collide.
    const idFor = (kind: string, key: string) => uuidV5(`${functionAlias}|${kind}|${key}`);

    const fn = new operationalinsights.SavedSearch(
      `${name}-function`,
      {
        ...workspace,
        savedSearchId: `auditbridge-${functionAlias.toLowerCase()}`,
        category: FUNCTION_CATEGORY,
        displayName: `${tableName} in the shape of OfficeActivity`,
        functionAlias,
        query: officeActivityFunctionKql(tableName),
        version: 2,
      },
      { parent: this, dependsOn: args.dependsOn ?? [] },
    );

    const ruleIds: pulumi.Output<string>[] = [];
    let workbookId: pulumi.Output<string> | undefined;
    if (args.sentinel.enabled) {
      // Offboarding removes Sentinel from the workspace, with its incidents and settings:
      // `pulumi destroy` or turning `sentinel` off must never do that, so the state is retained.
      const onboarding =
        args.sentinel.onboarding === "create"
          ? new securityinsights.SentinelOnboardingState(
              `${name}-onboarding`,
              { ...workspace, sentinelOnboardingStateName: "default" },
              { parent: this, retainOnDelete: true },
            )
          : undefined;
      // Rules are validated against the workspace on creation: the function must exist first.
      const contentDependsOn: pulumi.Resource[] = onboarding ? [onboarding, fn] : [fn];

      const parserAlias = asimParserAliasFor(tableName);
      new operationalinsights.SavedSearch(
        `${name}-asim-parser`,
        {
          ...workspace,
          savedSearchId: `auditbridge-${parserAlias.toLowerCase()}`,
          category: PARSER_CATEGORY,
          displayName: `${tableName} as ASIM audit events`,
          functionAlias: parserAlias,
          query: bindKql(asimAuditEventParserKql(), names),
          version: 2,
        },
        { parent: this, dependsOn: [fn] },
      );

      for (const rule of ANALYTICS_RULES) {
        const created = new securityinsights.ScheduledAlertRule(
          `${name}-rule-${rule.key}`,
          {
            ...workspace,
            ruleId: idFor("rule", rule.key),
            kind: "Scheduled",
            displayName: rule.displayName,
            description: rule.description,
            enabled: args.sentinel.rulesEnabled,
            query: bindKql(rule.query, names),
            queryFrequency: rule.queryFrequency,
            queryPeriod: rule.queryPeriod,
            severity: rule.severity,
            triggerOperator: "GreaterThan",
            triggerThreshold: 0,
            suppressionEnabled: false,
            suppressionDuration: "PT1H",
            tactics: rule.tactics,
            techniques: [...new Set(rule.techniques.map(parentTechnique))],
            entityMappings: rule.entityMappings,
            incidentConfiguration: { createIncident: true },
            eventGroupingSettings: { aggregationKind: "AlertPerResult" },
          },
          { parent: this, dependsOn: contentDependsOn },
        );
        ruleIds.push(created.id);
      }

      for (const hunt of HUNTING_QUERIES) {
        new operationalinsights.SavedSearch(
          `${name}-hunting-${hunt.key}`,
          {
            ...workspace,
            savedSearchId: `auditbridge-hunting-${idFor("hunting", hunt.key)}`,
            category: HUNTING_CATEGORY,
            displayName: hunt.displayName,
            query: bindKql(hunt.query, names),
            version: 2,
            tags: [
              { name: "description", value: hunt.description },
              { name: "tactics", value: hunt.tactics.join(",") },
              { name: "techniques", value: hunt.techniques.join(",") },
            ],
          },
          { parent: this, dependsOn: contentDependsOn },
        );
      }

      const workbook = new applicationinsights.Workbook(
        `${name}-workbook`,
        {
          resourceGroupName: args.resourceGroupName,
          // Workbook names are unique per resource group, where several stacks' workspaces may live.
          resourceName: pulumi
            .output(args.workspaceResourceId)
            .apply((id) => uuidV5(`${id.toLowerCase()}|${functionAlias}|workbook`)),
          location: args.location,
          kind: "shared",
          category: WORKBOOK_CATEGORY,
          displayName: `AuditBridge: ${tableName}`,
          sourceId: args.workspaceResourceId,
          version: "Notebook/1.0",
          serializedData: pulumi.output(args.workspaceResourceId).apply((id) =>
            workbookJson(
              WORKBOOK_QUERIES.map((q) => ({ ...q, query: bindKql(q.query, names) })),
              id,
            ),
          ),
          ...(args.tags ? { tags: { ...args.tags } } : {}),
        },
        { parent: this, dependsOn: contentDependsOn },
      );
      workbookId = workbook.id;
    }

    this.functionAlias = functionAlias;
    this.functionId = fn.id;
    this.ruleIds = ruleIds;
    this.workbookId = workbookId;
    this.registerOutputs({
      functionAlias,
      functionId: this.functionId,
      ruleIds: this.ruleIds,
      workbookId: this.workbookId,
    });
  }
}
