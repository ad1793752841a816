/**
 * What a stack deploys, as far as the checks care: the bundled collector or none (bring your own
 * SIEM), its mode and sinks. It decides which checks apply, which resource providers must be
 * registered and which write actions `pulumi up` needs in the resource group; docs/preflight.md
 * shows the same mapping as a table (check × mode). Pure.
 */
import type { DeployedSinkKind } from "../../domain/collectorEnv";
import type { TablePlan } from "../../domain/table";
import type { PreflightCheckId } from "./result";

/** Who collects, as stacks/config.ts names it (a unit test compares the lists). */
export const PREFLIGHT_COLLECTOR_KINDS = ["bundled", "none"] as const;
export type PreflightCollectorKind = (typeof PREFLIGHT_COLLECTOR_KINDS)[number];

/** How the bundled collector runs, as stacks/config.ts names it (a unit test compares the lists). */
export const PREFLIGHT_COLLECTOR_MODES = ["always-on", "scheduled"] as const;
export type PreflightCollectorMode = (typeof PREFLIGHT_COLLECTOR_MODES)[number];

/**
 * Microsoft Sentinel as the stack deploys it (`auditbridge:sentinel`, `sentinelOnboarding`): off,
 * on with the workspace onboarded by the stack, or on in a workspace already onboarded.
 */
export type PreflightSentinel = "off" | "create" | "existing";

/** The parts of the validated config that shape the deployment. */
export interface DeploymentShape {
  readonly collector: PreflightCollectorKind;
  /** null with collector none. */
  readonly collectorMode: PreflightCollectorMode | null;
  /** Empty with collector none. */
  readonly sinks: readonly DeployedSinkKind[];
  readonly workspaceResourceId: string | null;
  /**
   * Whether the stack creates a Key Vault: for a stored app credential (client secret or
   * certificate) or a sink's secret (the Splunk HEC token, syslog's client key). A keyless stack
   * (credentialMode federated) without sink secrets has none.
   */
  readonly keyVault: boolean;
  /** Plan of the audit table; an Analytics table gets the OfficeActivity-shaped function. */
  readonly tablePlan: TablePlan;
  /** Sentinel's onboarding and content in the audit workspace (needs logs-ingestion, Analytics). */
  readonly sentinel: PreflightSentinel;
}

/** The reason a check reports when the stack deploys nothing it looks at. */
export const COLLECTOR_NONE_SKIP = "collector none — not deployed";
/** The reason the Key Vault name check reports for a stack without a vault. */
export const NO_KEY_VAULT_SKIP =
  "credentialMode federated without sink secrets — no Key Vault is created";

/** Whether the stack creates the audit workspace's table, DCE and DCR (the logs-ingestion sink). */
export function deploysLogsIngestion(shape: DeploymentShape): boolean {
  return shape.collector === "bundled" && shape.sinks.includes("logs-ingestion");
}

/**
 * Whether some workspace receives the Container Apps environment's logs through a diagnostic
 * setting: the audit workspace with logs-ingestion, else `workspaceResourceId` when given.
 */
export function shipsEnvironmentLogs(shape: DeploymentShape): boolean {
  return (
    shape.collector === "bundled" &&
    (shape.sinks.includes("logs-ingestion") || shape.workspaceResourceId !== null)
  );
}

/** "sinks syslog,splunk-hec", for reasons. */
export function describeSinks(shape: DeploymentShape): string {
  return `sinks ${shape.sinks.join(",")}`;
}

/**
 * Checks that do not apply to this stack, with the skip reason; the others run. Sign-in, the
 * resource group, its permissions, the providers and the two Microsoft 365 checks always apply:
 * with collector none the stack still creates the app, its consent and a Key Vault (with a role
 * assignment for the deployer) in the resource group. The Key Vault name matters only when the
 * stack creates a vault.
 */
export function notDeployed(shape: DeploymentShape): Partial<Record<PreflightCheckId, string>> {
  if (shape.collector === "none") {
    return {
      "container-apps-location": `${COLLECTOR_NONE_SKIP} (no Container Apps environment)`,
      workspace: `${COLLECTOR_NONE_SKIP} (no workspace, table or DCR)`,
      registry: `${COLLECTOR_NONE_SKIP} (no image to pull)`,
    };
  }
  const skipped: Partial<Record<PreflightCheckId, string>> = {};
  if (!deploysLogsIngestion(shape) && shape.workspaceResourceId === null) {
    skipped.workspace = `${describeSinks(shape)} without logs-ingestion — not deployed (no workspace, table or DCR)`;
  }
  if (!shape.keyVault) skipped["key-vault-name"] = NO_KEY_VAULT_SKIP;
  return skipped;
}

/** Every namespace a deployment can use, in the order the providers check reads them. */
export const ALL_PROVIDERS = [
  "Microsoft.App",
  "Microsoft.Insights",
  "Microsoft.OperationalInsights",
  "Microsoft.KeyVault",
  "Microsoft.ManagedIdentity",
  "Microsoft.Storage",
  "Microsoft.SecurityInsights",
] as const;
export type ProviderNamespace = (typeof ALL_PROVIDERS)[number];

/**
 * Write actions for the content the stack puts in the audit workspace (components/sentinelContent.ts):
 * the OfficeActivity-shaped function of an Analytics table (a saved search) and, with Sentinel,
 * the onboarding state (when the stack onboards), the ASIM parser and hunting queries (saved
 * searches), the analytics rules and the workbook, which goes into the workspace's resource group.
 * Resource types: https://learn.microsoft.com/en-us/rest/api/securityinsights/sentinel-onboarding-states/create
 */
export function workspaceContentActions(shape: DeploymentShape): string[] {
  if (!deploysLogsIngestion(shape) || shape.tablePlan !== "Analytics") return [];
  return [
    "Microsoft.OperationalInsights/workspaces/savedSearches/write",
    ...(shape.sentinel === "create" ? ["Microsoft.SecurityInsights/onboardingStates/write"] : []),
    ...(shape.sentinel === "off"
      ? []
      : ["Microsoft.SecurityInsights/alertRules/write", "Microsoft.Insights/workbooks/write"]),
  ];
}

/**
 * The namespaces this stack creates resources of. Microsoft.App covers both the Container App
 * and the scheduled Container Apps Job (`Microsoft.App/jobs`); Microsoft.Insights the DCE, the
 * DCR and the environment's diagnostic setting.
 */
export function requiredProviders(shape: DeploymentShape): ProviderNamespace[] {
  const needed = new Set<ProviderNamespace>(shape.keyVault ? ["Microsoft.KeyVault"] : []);
  if (shape.collector === "bundled") {
    for (const ns of ["Microsoft.App", "Microsoft.ManagedIdentity", "Microsoft.Storage"] as const) {
      needed.add(ns);
    }
  }
  if (deploysLogsIngestion(shape)) needed.add("Microsoft.OperationalInsights");
  if (shipsEnvironmentLogs(shape)) needed.add("Microsoft.Insights");
  if (deploysLogsIngestion(shape) && shape.sentinel !== "off") {
    needed.add("Microsoft.SecurityInsights");
  }
  return ALL_PROVIDERS.filter((ns) => needed.has(ns));
}

/** Creating the role assignments a deployment makes (Key Vault, DCR, storage, AcrPull). */
export const ROLE_ASSIGNMENT_WRITE = "Microsoft.Authorization/roleAssignments/write";
/** The diagnostic setting that ships the Container Apps environment's logs to a workspace. */
export const DIAGNOSTIC_SETTINGS_WRITE = "Microsoft.Insights/diagnosticSettings/write";

/**
 * Write actions `pulumi up` needs in the resource group for this stack, one per resource type it
 * creates there, plus the role assignments: with collector none the deployer's Key Vault Secrets
 * Officer grant on the vault still needs them.
 */
export function deploymentActions(shape: DeploymentShape): string[] {
  const bundled = shape.collector === "bundled";
  return [
    ...(deploysLogsIngestion(shape)
      ? [
          "Microsoft.OperationalInsights/workspaces/write",
          "Microsoft.OperationalInsights/workspaces/tables/write",
          "Microsoft.Insights/dataCollectionEndpoints/write",
          "Microsoft.Insights/dataCollectionRules/write",
        ]
      : []),
    // The workspace the stack creates is in this group; an existing one is checked by check 7.
    ...(shape.workspaceResourceId === null ? workspaceContentActions(shape) : []),
    ...(shape.keyVault
      ? ["Microsoft.KeyVault/vaults/write", "Microsoft.KeyVault/vaults/secrets/write"]
      : []),
    ...(bundled
      ? [
          "Microsoft.Storage/storageAccounts/write",
          "Microsoft.ManagedIdentity/userAssignedIdentities/write",
          "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
          "Microsoft.App/managedEnvironments/write",
          shape.collectorMode === "scheduled"
            ? "Microsoft.App/jobs/write"
            : "Microsoft.App/containerApps/write",
        ]
      : []),
    ...(shipsEnvironmentLogs(shape) ? [DIAGNOSTIC_SETTINGS_WRITE] : []),
    ROLE_ASSIGNMENT_WRITE,
  ];
}
