/**
 * The program with `collector: none` (bring your own SIEM): the app registration, its service
 * principal, Management API permissions with admin consent, the rotating client secret, and a
 * Key Vault holding it for the deployer. Nothing else: no identity, storage, Container Apps,
 * workspace or DCR.
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { isSecret, isSecretInput, MOCK, plain, type Recorder, runProgram } from "./mocks";
import { cliConfigFor, readProject } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");
const SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

let recorder: Recorder;
let program: Record<string, pulumi.Output<string>>;
let outputs: Record<string, string>;

beforeAll(async () => {
  const project = readProject(ROOT);
  const config = cliConfigFor(project, "example");
  // The example's collector image and registry configure the bundled collector only.
  delete config["auditbridge:collectorImage"];
  delete config["auditbridge:collectorRegistryResourceId"];
  pulumi.runtime.setAllConfig({ ...config, "auditbridge:collector": "none" }, []);
  ({ recorder, program, outputs } = await runProgram(
    path.resolve(ROOT, project.main),
    project.name,
  ));
});

describe("the program with collector none", () => {
  it("creates exactly the app, its principal, consent, credential, and the vault with the secret", () => {
    const counts: Record<string, number> = {};
    for (const r of recorder.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    const passwords = counts["azuread:index/applicationPassword:ApplicationPassword"] ?? 0;
    expect(passwords).toBeGreaterThanOrEqual(1);
    expect(counts).toEqual({
      "auditbridge:pipeline:TenantAuditPipeline": 1,
      "auditbridge:entra:AuditReaderApp": 1,
      "pulumi:providers:azuread": 1,
      "azuread:index/application:Application": 1,
      "azuread:index/servicePrincipal:ServicePrincipal": 1,
      // The example collects DLP.All: ActivityFeed.Read and ActivityFeed.ReadDlp, consented.
      "azuread:index/appRoleAssignment:AppRoleAssignment": 2,
      "azuread:index/applicationPassword:ApplicationPassword": passwords,
      "azure-native:keyvault:Vault": 1,
      "azure-native:keyvault:Secret": 1,
      // Key Vault Secrets Officer for the deployer, and nothing for any collector.
      "azure-native:authorization:RoleAssignment": 1,
    });
  });

  it("creates no managed identity, storage, Container Apps, workspace, DCE or DCR", () => {
    const types = new Set(recorder.resources.map((r) => r.type));
    for (const absent of [
      "azure-native:managedidentity:UserAssignedIdentity",
      "azure-native:storage:StorageAccount",
      "azure-native:app:ManagedEnvironment",
      "azure-native:app:ContainerApp",
      "azure-native:operationalinsights:Workspace",
      "azure-native:operationalinsights:Table",
      "azure-native:monitor:DataCollectionEndpoint",
      "azure-native:monitor:DataCollectionRule",
      "auditbridge:collector:CollectorService",
    ]) {
      expect(types.has(absent), absent).toBe(false);
    }
  });

  it("keeps the current client secret in the vault, as a Pulumi secret with its expiry", () => {
    const secret = recorder.one("azure-native:keyvault:Secret");
    expect(secret.inputs.secretName).toBe("collector-credential");
    expect(isSecretInput(secret.inputs.properties)).toBe(true);
    const properties = plain(secret.inputs.properties) as {
      value: string;
      attributes: { expires: number };
    };
    const passwords = recorder
      .ofType("azuread:index/applicationPassword:ApplicationPassword")
      .map((p) => String(p.state.value));
    expect(passwords).toContain(properties.value);
    expect(properties.attributes.expires * 1000).toBe(Date.parse(outputs.secretExpiresAt!));
  });

  it("creates the vault in the deployer's tenant with RBAC, and grants only the deployer", () => {
    const vault = recorder.one("azure-native:keyvault:Vault");
    expect(vault.inputs.properties).toMatchObject({
      tenantId: MOCK.azureTenantId,
      enableRbacAuthorization: true,
      enableSoftDelete: true,
    });
    expect(vault.options.ignoreChanges).toEqual(["properties.createMode"]);
    const grant = recorder.one("azure-native:authorization:RoleAssignment");
    expect(grant.inputs).toMatchObject({
      principalId: MOCK.deployer.objectId,
      principalType: "User",
      scope: vault.id,
      roleDefinitionId: expect.stringContaining(SECRETS_OFFICER),
    });
    const secret = recorder.one("azure-native:keyvault:Secret");
    expect(secret.options.deletedWith).toBe(vault.name);
    expect(secret.options.dependsOn).toContain(grant.name);
  });

  it("keeps the names the vault has under a bundled collector, with an alias to that parent", () => {
    const collectorUrn =
      "urn:pulumi:example::auditbridge::auditbridge:pipeline:TenantAuditPipeline$auditbridge:collector:CollectorService::tenant-collector";
    for (const [type, name] of [
      ["azure-native:keyvault:Vault", "tenant-collector-vault"],
      ["azure-native:keyvault:Secret", "tenant-collector-credential"],
      ["azure-native:authorization:RoleAssignment", "tenant-collector-deployer-secrets-officer"],
    ] as const) {
      const resource = recorder.one(type);
      expect(resource.name).toBe(name);
      // Only the program's own alias: azure-native's per-version type aliases carry a type.
      const own = resource.options.aliases.filter((alias) => alias.type === undefined);
      expect(own, name).toEqual([{ parentUrn: collectorUrn }]);
    }
  });

  it("exports the bring-your-own-SIEM outputs, empty where there is no collector", () => {
    const vault = recorder.one("azure-native:keyvault:Vault");
    expect(outputs).toMatchObject({
      collector: "none",
      collectorMode: "",
      collectorJobName: "",
      sinks: "",
      collectorAppName: "",
      workspaceResourceId: "",
      workspaceCustomerId: "",
      dcrImmutableId: "",
      ingestionEndpoint: "",
      officeActivityFunction: "",
      credentialMode: "secret",
      clientSecretName: "collector-credential",
      credentialSecretName: "collector-credential",
      keyVaultName: vault.inputs.vaultName,
      keyVaultUri: `https://${vault.inputs.vaultName}.vault.azure.net/`,
      resourceGroupName: "rg-auditbridge-contoso",
      azureSubscriptionId: MOCK.subscriptionId,
      cloud: "commercial",
      publisherId: "11111111-2222-3333-4444-555555555555",
    });
    expect(outputs.clientId).toBe(
      recorder.one("azuread:index/application:Application").state.clientId,
    );
  });

  it("exports nothing secret and no secret value", async () => {
    for (const [name, output] of Object.entries(program)) {
      expect(await isSecret(output), name).toBe(false);
    }
    for (const password of recorder.ofType(
      "azuread:index/applicationPassword:ApplicationPassword",
    )) {
      expect(JSON.stringify(outputs)).not.toContain(String(password.state.value));
    }
  });
});
