import { readFileSync } from "node:fs";
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { secretSchedule } from "../../components/secretRotation";
import { CONFIG_KEYS, SINK_KEYS } from "../../stacks/config";
import { installMocks, isSecret, plain, type Recorder, resolved, settle } from "./mocks";
import { cliConfigFor, type PulumiProject, readProject, readStackConfig } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");
const EXPORTS = [
  "tenantId",
  "clientId",
  "servicePrincipalObjectId",
  "secretExpiresAt",
  "workspaceResourceId",
  "workspaceCustomerId",
  "dcrImmutableId",
  "ingestionEndpoint",
  "collectorAppName",
  "collectorJobName",
  "officeActivityFunction",
  "collector",
  "collectorMode",

  "sinks",
  "cloud",
  "contentTypes",
  "publisherId",
  "keyVaultName",
  "keyVaultUri",
  "credentialMode",
  "clientSecretName",
  "credentialSecretName",
  "resourceGroupName",
  "azureSubscriptionId",
  "tablePlan",
];

let project: PulumiProject;
let config: Record<string, string>;
let recorder: Recorder;
let program: Record<string, pulumi.Output<string>>;
let outputs: Record<string, string>;
let startedAtMs = 0;

beforeAll(async () => {
  // Exactly what `pulumi up --stack example` feeds the program: Pulumi.yaml's `main`, the
  // stack file's config plus the project defaults, the project and stack names.
  project = readProject(ROOT);
  config = cliConfigFor(project, "example");
  pulumi.runtime.setAllConfig(config, []);
  recorder = await installMocks("example", project.name);
  startedAtMs = Date.now();
  program = (await import(path.resolve(ROOT, project.main))) as Record<
    string,
    pulumi.Output<string>
  >;
  outputs = {};
  for (const name of EXPORTS) outputs[name] = await resolved(program[name]!);
  await settle();
});

describe("the Pulumi project file", () => {
  it("runs stacks/index.ts with the nodejs runtime, stack files in stacks/ and a local file backend", () => {
    expect(project).toMatchObject({
      name: "auditbridge",
      runtime: "nodejs",
      main: "stacks/index.ts",
      stackConfigDir: "stacks",
    });
    expect(project.backendUrl).toMatch(/^file:\/\//);
  });

  it("declares every config key the program reads, with the program's types and defaults", () => {
    expect(Object.keys(project.config).sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      const declared = project.config[key]!;
      expect(declared.type, key).toBe(spec.type);
      expect(declared.default, key).toBe("default" in spec ? String(spec.default) : undefined);
      expect(declared.description?.length ?? 0, key).toBeGreaterThan(10);
      // Pulumi then refuses a plaintext stack value for the key.
      expect(declared.secret ?? false, key).toBe("secret" in spec ? spec.secret : false);
    }
    expect(project.config.clientCertificatePem?.secret).toBe(true);
  });

  it("documents every key in the example stack: as a value, or in a comment for secrets and the SIEM sinks' settings", () => {
    const written = Object.keys(readStackConfig(project, "example"));
    const comments = readFileSync(path.join(ROOT, "stacks", "Pulumi.example.yaml"), "utf8")
      .split("\n")
      .filter((line) => line.trimStart().startsWith("#"))
      .join("\n");
    // The example deploys the default sink; the syslog and HEC keys only apply with those sinks.
    const commentedOnly = new Set<string>([...SINK_KEYS.syslog, ...SINK_KEYS["splunk-hec"]]);
    for (const [key, spec] of Object.entries(CONFIG_KEYS)) {
      if (("secret" in spec && spec.secret) || commentedOnly.has(key)) {
        expect(written, key).not.toContain(`auditbridge:${key}`);
        expect(comments, key).toContain(`auditbridge:${key}`);
      } else {
        expect(written, key).toContain(`auditbridge:${key}`);
      }
    }
  });
});

describe("the deploy lifecycle page", () => {
  const page = () => readFileSync(path.join(ROOT, "docs", "deploy-lifecycle.md"), "utf8");

  it("documents every lifecycle key and the azure-native settings the program checks", () => {
    for (const key of [
      "keyVaultRecoverSoftDeleted",
      "deleteDataOnDestroy",
      "roleAssignmentWaitSeconds",
      "deployerPrincipalType",
      "clientCertificatePem",
    ]) {
      expect(Object.keys(CONFIG_KEYS), key).toContain(key);
      expect(page(), key).toContain(`auditbridge:${key}`);
    }
    expect(page()).toContain("azure-native:environment");
    expect(page()).toContain("PULUMI_NODEJS_TRANSPILE_ONLY");
  });

  it("gives the exact purge command and a troubleshooting row per lifecycle failure", () => {
    expect(page()).toContain("az keyvault purge --name kv-<prefix>-<suffix> --location <location>");
    const troubleshooting = page().split("## Troubleshooting")[1] ?? "";
    const rows = troubleshooting.split("\n").filter((line) => /^\| (?!Symptom|---)/.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(12);
    for (const symptom of [
      "403",
      "VaultAlreadyExists",
      "Unable to get value using Managed identity",
      "Provisioning",
      "ResourceGroupNotFound",
      "Key credential end date is invalid",
      "Audit data gone",
      "shared key",
      "gcchigh",
      "c5393580-f805-4401-95e8-94b7a6ef2fc2",
      "must be encrypted",
      "InvalidOutputTable",
      "valid application object",
    ]) {
      expect(troubleshooting, symptom).toContain(symptom);
    }
  });
});

describe("the program with the example stack", () => {
  it("exports the stack-mode outputs: bundled, always-on, logs-ingestion, with the vault and the client secret's name", () => {
    const vault = recorder.one("azure-native:keyvault:Vault");
    expect(outputs).toMatchObject({
      collector: "bundled",
      collectorMode: "always-on",
      collectorJobName: "",
      sinks: "logs-ingestion",
      cloud: "commercial",
      contentTypes:
        "Audit.AzureActiveDirectory,Audit.Exchange,Audit.SharePoint,Audit.General,DLP.All",
      publisherId: "11111111-2222-3333-4444-555555555555",
      keyVaultName: vault.inputs.vaultName,
      keyVaultUri: `https://${vault.inputs.vaultName}.vault.azure.net/`,
      credentialMode: "secret",
      clientSecretName: recorder.one("azure-native:keyvault:Secret").inputs.secretName,
      resourceGroupName: "rg-auditbridge-contoso",
      azureSubscriptionId: "00000000-0000-0000-0000-0000000000aa",
    });
    expect(outputs.clientSecretName).toBe("collector-credential");
    expect(outputs.credentialSecretName).toBe("collector-credential");
  });

  it("exports exactly the documented outputs, none of them secret", async () => {
    expect(Object.keys(program).sort()).toEqual([...EXPORTS].sort());
    for (const name of EXPORTS) expect(await isSecret(program[name]!), name).toBe(false);
  });

  it("creates the table with the stack's plan and exports it for verify", () => {
    expect(config["auditbridge:tablePlan"]).toBe("Analytics");
    expect(recorder.one("azure-native:operationalinsights:Table").inputs.plan).toBe("Analytics");
    expect(outputs.tablePlan).toBe("Analytics");
  });

  it("leaks no secret value into any output", () => {
    const all = JSON.stringify(outputs);
    for (const password of recorder.ofType(
      "azuread:index/applicationPassword:ApplicationPassword",
    )) {
      expect(all).not.toContain(String(password.state.value));
    }
    expect(all).not.toMatch(/sharedKey/i);
    for (const resource of recorder.resources) {
      expect(JSON.stringify(plain(resource.inputs)), resource.name).not.toMatch(/"sharedKey"/);
    }
  });

  it("exports the tenant, the app and the destination's identifiers", () => {
    const app = recorder.one("azuread:index/application:Application");
    const sp = recorder.one("azuread:index/servicePrincipal:ServicePrincipal", "tenant-reader-sp");
    const dcr = recorder.one("azure-native:monitor:DataCollectionRule");
    const workspace = recorder.one("azure-native:operationalinsights:Workspace");
    expect(outputs).toMatchObject({
      tenantId: "11111111-2222-3333-4444-555555555555",
      clientId: app.state.clientId,
      servicePrincipalObjectId: sp.state.objectId,
      workspaceResourceId: workspace.id,
      workspaceCustomerId: workspace.state.customerId,
      dcrImmutableId: dcr.state.immutableId,
      collectorAppName: "ca-contoso-collector",
      // Always-on: no job.
      collectorJobName: "",
    });
    expect(outputs.ingestionEndpoint).toMatch(
      /^https:\/\/dce-contoso-.*\.ingest\.monitor\.azure\.com$/,
    );
  });

  it("exports the current secret's end date, derived from the rotation anchor", () => {
    const expected = secretSchedule({
      anchor: config["auditbridge:secretRotationAnchor"]!,
      rotationDays: Number(config["auditbridge:secretRotationDays"]),
      lifetimeDays: Number(config["auditbridge:secretLifetimeDays"]),
      nowMs: startedAtMs,
    });
    expect(outputs.secretExpiresAt).toBe(expected.current.endDate);
    const passwords = recorder.ofType("azuread:index/applicationPassword:ApplicationPassword");
    expect(passwords.map((p) => p.inputs.endDate)).toContain(expected.current.endDate);
  });

  it("creates every part of the pipeline once", () => {
    const counts: Record<string, number> = {};
    for (const r of recorder.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).toMatchObject({
      "auditbridge:pipeline:TenantAuditPipeline": 1,
      "auditbridge:entra:AuditReaderApp": 1,
      "auditbridge:monitor:LogAnalyticsDestination": 1,
      "auditbridge:collector:CollectorService": 1,
      "pulumi:providers:azuread": 1,
      "azuread:index/application:Application": 1,
      // Only the app's own: Microsoft's Management APIs principal is looked up, not managed.
      "azuread:index/servicePrincipal:ServicePrincipal": 1,
      // The example collects DLP.All: ActivityFeed.Read and ActivityFeed.ReadDlp.
      "azuread:index/appRoleAssignment:AppRoleAssignment": 2,
      "azure-native:operationalinsights:Workspace": 1,
      "azure-native:operationalinsights:Table": 1,
      "azure-native:monitor:DataCollectionEndpoint": 1,
      "azure-native:monitor:DataCollectionRule": 1,
      "azure-native:managedidentity:UserAssignedIdentity": 1,
      "azure-native:keyvault:Vault": 1,
      "azure-native:keyvault:Secret": 1,
      "azure-native:storage:StorageAccount": 1,
      "azure-native:storage:BlobContainer": 1,
      "azure-native:app:ManagedEnvironment": 1,
      "azure-native:monitor:DiagnosticSetting": 1,
      "azure-native:app:ContainerApp": 1,
      // Publisher on the DCR, Secrets User on the secret, Blob Data Contributor, AcrPull, and
      // Secrets Officer on the vault for the deployer.
      "azure-native:authorization:RoleAssignment": 5,
      // Role propagation before the app, table settling before the DCR.
      "time:index/sleep:Sleep": 2,
    });
    // The workspace is in the deployment's own subscription: no extra provider.
    expect(counts["pulumi:providers:azure-native"]).toBeUndefined();
    expect(counts["azuread:index/applicationPassword:ApplicationPassword"]).toBeGreaterThanOrEqual(
      1,
    );
  });

  it("aliases the vault, its secret and the deployer's grant to the names they have without a collector", () => {
    const pipelineUrn =
      "urn:pulumi:example::auditbridge::auditbridge:pipeline:TenantAuditPipeline::tenant";
    for (const type of [
      "azure-native:keyvault:Vault",
      "azure-native:keyvault:Secret",
      "azure-native:authorization:RoleAssignment",
    ]) {
      for (const resource of recorder.ofType(type, "tenant-collector")) {
        const own = resource.options.aliases.filter((alias) => alias.type === undefined);
        const expected = [
          "tenant-collector-vault",
          "tenant-collector-credential",
          "tenant-collector-deployer-secrets-officer",
        ].includes(resource.name)
          ? [{ parentUrn: pipelineUrn }]
          : [];
        expect(own, resource.name).toEqual(expected);
      }
    }
  });

  it("grants the collector identity publisher rights on the DCR", () => {
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    const dcr = recorder.one("azure-native:monitor:DataCollectionRule");
    const publisher = recorder
      .ofType("azure-native:authorization:RoleAssignment")
      .find((r) => r.inputs.scope === dcr.id);
    expect(publisher?.inputs).toMatchObject({
      principalId: identity.state.principalId,
      principalType: "ServicePrincipal",
    });
  });

  it("wires the collector's environment to the app, the DCR, the DCE and the identity", () => {
    const app = recorder.one("azuread:index/application:Application");
    const dcr = recorder.one("azure-native:monitor:DataCollectionRule");
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    const containerApp = recorder.one("azure-native:app:ContainerApp");
    const env = Object.fromEntries(
      (
        containerApp.inputs.template as {
          containers: { env: { name: string; value?: string }[] }[];
        }
      ).containers[0]!.env.map((e) => [e.name, e.value]),
    );
    expect(env).toMatchObject({
      AZURE_TENANT_ID: "11111111-2222-3333-4444-555555555555",
      AZURE_CLIENT_ID: app.state.clientId,
      AUDIT_MANAGED_IDENTITY_CLIENT_ID: identity.state.clientId,
      LOGS_INGESTION_RULE_ID: dcr.state.immutableId,
      LOGS_INGESTION_ENDPOINT: outputs.ingestionEndpoint,
      LOGS_INGESTION_STREAM: "Custom-M365Audit",
      O365_PUBLISHER_ID: "11111111-2222-3333-4444-555555555555",
      O365_CONTENT_TYPES:
        "Audit.AzureActiveDirectory,Audit.Exchange,Audit.SharePoint,Audit.General,DLP.All",
    });
    expect(env.AZURE_CLIENT_SECRET).toBeUndefined();
  });

  it("sends no client secret value to any Azure resource except the Key Vault secret", () => {
    const passwords = recorder
      .ofType("azuread:index/applicationPassword:ApplicationPassword")
      .map((p) => String(p.state.value));
    for (const resource of recorder.resources) {
      if (resource.type === "azure-native:keyvault:Secret") continue;
      const sent = JSON.stringify(plain(resource.inputs));
      for (const password of passwords) expect(sent, resource.name).not.toContain(password);
    }
  });
});
