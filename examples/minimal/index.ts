/**
 * The smallest program that adds the AuditBridge pipeline: one component, a few config keys,
 * everything else left at its default. The component creates the azuread provider for the
 * Microsoft 365 tenant itself; Azure resources use the program's default azure-native provider.
 */
import * as pulumi from "@pulumi/pulumi";
import { TenantAuditPipeline } from "auditbridge";

const config = new pulumi.Config();

const pipeline = new TenantAuditPipeline("contoso", {
  m365TenantId: config.require("m365TenantId"),
  cloud: "commercial",
  location: "westeurope",
  resourceGroupName: config.require("resourceGroupName"),
  namePrefix: "contoso",
  appDisplayName: "AuditBridge audit reader (contoso)",
  contentTypes: [
    "Audit.AzureActiveDirectory",
    "Audit.Exchange",
    "Audit.SharePoint",
    "Audit.General",
  ],
  includeServiceHealth: false,
  credential: { mode: "secret", lifetimeDays: 180, rotationDays: 90, rotationAnchor: "2026-01-01" },
  workspace: { kind: "new", retentionInDays: 90 },
  tableName: "M365Audit_CL",
  collectorImage: config.require("collectorImage"),
  tags: { workload: "m365-audit" },
});

/** Workspace (customer) id, for queries. */
export const workspaceCustomerId = pipeline.workspaceCustomerId;
/** Name of the Container App running the collector. */
export const collectorAppName = pipeline.collectorAppName;
