/**
 * AuditBridge inside a platform team's program. The program brings:
 * - its providers: an azuread provider for the Microsoft 365 tenant and an azure-native
 *   provider for the spoke subscription, handed to the component with the `providers` option
 *   (children inherit them, https://www.pulumi.com/docs/iac/concepts/options/providers/), and a
 *   second azure-native provider for the hub subscription that holds the shared workspace;
 * - the shared workspace, by resource id: only the table, its function and the DCR's
 *   destination go there, through the hub provider;
 * - its tags and its naming rule.
 * The components create no provider of their own here.
 */

import { Provider as AzureNativeProvider } from "@pulumi/azure-native/provider";
import * as azuread from "@pulumi/azuread";
import * as pulumi from "@pulumi/pulumi";
import { type NamingHook, parseResourceId, TenantAuditPipeline } from "auditbridge";

const config = new pulumi.Config();
const m365TenantId = config.require("m365TenantId");
const workspaceResourceId = config.require("workspaceResourceId");
const hubSubscriptionId = parseResourceId(workspaceResourceId)?.subscriptionId;
if (!hubSubscriptionId)
  throw new Error(`workspaceResourceId is not a resource id: ${workspaceResourceId}`);

const m365 = new azuread.Provider("m365", { tenantId: m365TenantId });
const spoke = new AzureNativeProvider("spoke", {
  subscriptionId: config.require("spokeSubscriptionId"),
});
const hub = new AzureNativeProvider("hub", { subscriptionId: hubSubscriptionId });

// Corporate rule: a region suffix on every name that allows hyphens (Key Vault and storage
// account names are globally unique and short, so they keep AuditBridge's defaults).
const naming: NamingHook = (kind, defaultName) =>
  kind === "keyVault" || kind === "storageAccount" ? defaultName : `${defaultName}-weu`;

const pipeline = new TenantAuditPipeline(
  "fabrikam",
  {
    m365TenantId,
    cloud: "commercial",
    location: "westeurope",
    resourceGroupName: config.require("resourceGroupName"),
    namePrefix: "fabrikam",
    naming,
    tags: { costCenter: "cc-4711", owner: "platform-team" },
    appDisplayName: "AuditBridge audit reader (fabrikam)",
    contentTypes: ["Audit.Exchange", "Audit.SharePoint"],
    includeServiceHealth: false,
    credential: {
      mode: "secret",
      lifetimeDays: 180,
      rotationDays: 90,
      rotationAnchor: "2026-01-01",
    },
    workspace: { kind: "existing", resourceId: workspaceResourceId, provider: hub },
    tableName: "M365Audit_CL",
    collectorImage: config.require("collectorImage"),
  },
  { providers: [m365, spoke] },
);

/** DCR immutable id, for the collector's settings elsewhere. */
export const dcrImmutableId = pipeline.dcrImmutableId;
/** Name of the Container App running the collector. */
export const collectorAppName = pipeline.collectorAppName;
