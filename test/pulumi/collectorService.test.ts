import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { resourceNames } from "../../components/naming";
import { ENV_KEYS } from "../../domain/collectorEnv";
import { installMocks, isSecretInput, MOCK, plain, type Recorder, resolved, settle } from "./mocks";

const RG = "rg-auditbridge-contoso";
const M365 = "11111111-2222-3333-4444-555555555555";
const CLIENT_ID = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
const CLIENT_SECRET = "Sup3r~Secret.Value_that-must-not-leak";
const CERT_BUNDLE =
  "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
const REGISTRY_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contosoacr";
const IDENTITY = "azure-native:managedidentity:UserAssignedIdentity";
const VAULT = "azure-native:keyvault:Vault";
const SECRET = "azure-native:keyvault:Secret";
const ACCOUNT = "azure-native:storage:StorageAccount";
const CONTAINER = "azure-native:storage:BlobContainer";
const ROLE = "azure-native:authorization:RoleAssignment";
const ENVIRONMENT = "azure-native:app:ManagedEnvironment";
const APP = "azure-native:app:ContainerApp";

type EnvVar = { name: string; value?: string; secretRef?: string };
type Container = {
  env: EnvVar[];
  image: string;
  probes: Record<string, unknown>[];
  volumeMounts?: unknown[];
};

let recorder: Recorder;
let service: import("../../components/collectorService").CollectorService;

function containerOf(prefix: string): Container {
  const template = recorder.one(APP, prefix).inputs.template as { containers: Container[] };
  expect(template.containers).toHaveLength(1);
  return template.containers[0]!;
}

function envOf(prefix: string): Record<string, EnvVar> {
  return Object.fromEntries(containerOf(prefix).env.map((e) => [e.name, e]));
}

beforeAll(async () => {
  recorder = await installMocks();
  const { CollectorService } = await import("../../components/collectorService");
  const common = (prefix: string) => ({
    resourceGroupName: RG,
    location: "westeurope",
    names: resourceNames(prefix, "a1b2c3"),
    image: "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
    m365TenantId: M365,
    clientId: CLIENT_ID,
    cloud: "commercial" as const,
    contentTypes: ["Audit.Exchange", "DLP.All"] as const,
    publisherId: M365,
    ingestion: {
      endpoint: "https://dce-contoso-x1y2.westeurope-1.ingest.monitor.azure.com",
      ruleId: "dcr-00112233445566778899aabbccddeeff",
      stream: "Custom-M365Audit",
    },
    workspace: {
      customerId: "cccccccc-0000-0000-0000-000000000001",
      name: "log-contoso",
      resourceGroupName: RG,
    },
  });
  service = new CollectorService("withsecret", {
    ...common("contoso"),
    registryResourceId: REGISTRY_ID,
    credential: {
      mode: "secret",
      clientSecret: pulumi.secret(CLIENT_SECRET),
      expiresAt: "2027-03-27T00:00:00Z",
      rotationSlot: 3,
    },
  });
  new CollectorService("keyless", { ...common("keyless"), credential: { mode: "federated" } });
  new CollectorService("withcert", {
    ...common("withcert"),
    credential: { mode: "certificate", certificatePem: pulumi.secret(CERT_BUNDLE) },
  });
  await settle();
});

describe("CollectorService with a client secret", () => {
  it("sets exactly the collector contract's variables", () => {
    const env = containerOf("withsecret").env;
    for (const e of env) expect(ENV_KEYS).toContain(e.name);
    expect(env.map((e) => e.name).sort()).toEqual(
      [
        "AZURE_TENANT_ID",
        "AZURE_CLIENT_ID",
        "AZURE_CLIENT_SECRET",
        "AUDIT_MANAGED_IDENTITY_CLIENT_ID",
        "O365_CLOUD",
        "O365_CONTENT_TYPES",
        "O365_PUBLISHER_ID",
        "AUDIT_STATE",
        "AUDIT_SINK",
        "LOGS_INGESTION_ENDPOINT",
        "LOGS_INGESTION_RULE_ID",
        "LOGS_INGESTION_STREAM",
        "AUDIT_HTTP_PORT",
      ].sort(),
    );
  });

  it("fills the variables from the app, the destination, the identity and the checkpoint container", () => {
    const env = envOf("withsecret");
    const identity = recorder.one(IDENTITY, "withsecret");
    const value = (name: string) => env[name]?.value;
    expect(value("AZURE_TENANT_ID")).toBe(M365);
    expect(value("AZURE_CLIENT_ID")).toBe(CLIENT_ID);
    expect(value("AUDIT_MANAGED_IDENTITY_CLIENT_ID")).toBe(identity.state.clientId);
    expect(value("O365_CLOUD")).toBe("commercial");
    expect(value("O365_CONTENT_TYPES")).toBe("Audit.Exchange,DLP.All");
    expect(value("O365_PUBLISHER_ID")).toBe(M365);
    expect(value("AUDIT_STATE")).toBe("https://stcontosoa1b2c3.blob.core.windows.net/checkpoints");
    expect(value("AUDIT_SINK")).toBe("logs-ingestion");
    expect(value("LOGS_INGESTION_ENDPOINT")).toBe(
      "https://dce-contoso-x1y2.westeurope-1.ingest.monitor.azure.com",
    );
    expect(value("LOGS_INGESTION_RULE_ID")).toBe("dcr-00112233445566778899aabbccddeeff");
    expect(value("LOGS_INGESTION_STREAM")).toBe("Custom-M365Audit");
    expect(value("AUDIT_HTTP_PORT")).toBe("9464");
  });

  it("passes the client secret only as a Key Vault reference, never as a value", () => {
    const env = envOf("withsecret");
    expect(env.AZURE_CLIENT_SECRET).toEqual({
      name: "AZURE_CLIENT_SECRET",
      secretRef: "client-secret-3",
    });
    const app = recorder.one(APP, "withsecret");
    const secret = recorder.one(SECRET, "withsecret");
    const identity = recorder.one(IDENTITY, "withsecret");
    const configuration = app.inputs.configuration as { secrets: Record<string, unknown>[] };
    expect(configuration.secrets).toEqual([
      {
        name: "client-secret-3",
        keyVaultUrl: (secret.state.properties as { secretUri: string }).secretUri,
        identity: identity.id,
      },
    ]);
    expect(JSON.stringify(plain(app.inputs))).not.toContain(CLIENT_SECRET);
  });

  it("stores the secret in Key Vault as a Pulumi secret with the credential's expiry", () => {
    const secret = recorder.one(SECRET, "withsecret");
    // azure-native sends `properties` through an apply, so Pulumi marks the whole object secret.
    expect(isSecretInput(secret.inputs.properties)).toBe(true);
    const properties = plain(secret.inputs.properties) as Record<string, unknown>;
    expect(properties.value).toBe(CLIENT_SECRET);
    expect(properties.attributes).toEqual({ expires: Date.parse("2027-03-27T00:00:00Z") / 1000 });
    expect(secret.inputs.secretName).toBe("collector-client-secret");
  });

  it("creates the Key Vault in RBAC mode in the identity's tenant, with no access policies", () => {
    const vault = recorder.one(VAULT, "withsecret");
    const properties = vault.inputs.properties as Record<string, unknown>;
    expect(vault.inputs.vaultName).toBe("kv-contoso-a1b2c3");
    expect(properties).toMatchObject({
      enableRbacAuthorization: true,
      tenantId: MOCK.azureTenantId,
      sku: { family: "A", name: "standard" },
    });
    expect(properties).not.toHaveProperty("accessPolicies");
  });

  it("keeps checkpoints in a storage account without shared keys, public blobs or old TLS", () => {
    const account = recorder.one(ACCOUNT, "withsecret");
    expect(account.inputs).toMatchObject({
      accountName: "stcontosoa1b2c3",
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      enableHttpsTrafficOnly: true,
    });
    expect(recorder.one(CONTAINER, "withsecret").inputs).toMatchObject({
      containerName: "checkpoints",
      publicAccess: "None",
    });
  });

  it("grants the identity exactly three roles, each on the one resource it needs", () => {
    const identity = recorder.one(IDENTITY, "withsecret");
    const byRole: Record<string, Record<string, unknown>> = Object.fromEntries(
      recorder
        .ofType(ROLE, "withsecret")
        .map((r) => [String(r.inputs.roleDefinitionId).split("/").pop(), r.inputs]),
    );
    const roleDef = (guid: string, scope: string) =>
      `/subscriptions/${scope.split("/")[2]}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
    const secretId = recorder.one(SECRET, "withsecret").id;
    const containerId = recorder.one(CONTAINER, "withsecret").id;
    expect(Object.keys(byRole).sort()).toEqual(
      [
        "4633458b-17de-408a-b874-0445c86b69e6",
        "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        "7f951dda-4ed3-4680-a7ca-43fe172d538d",
      ].sort(),
    );
    expect(byRole["4633458b-17de-408a-b874-0445c86b69e6"]).toMatchObject({
      scope: secretId,
      roleDefinitionId: roleDef("4633458b-17de-408a-b874-0445c86b69e6", secretId),
    });
    expect(byRole["ba92f5b4-2d11-453d-a403-e96b0029c9fe"]).toMatchObject({ scope: containerId });
    expect(byRole["7f951dda-4ed3-4680-a7ca-43fe172d538d"]).toMatchObject({ scope: REGISTRY_ID });
    for (const inputs of Object.values(byRole)) {
      expect(inputs).toMatchObject({
        principalId: identity.state.principalId,
        principalType: "ServicePrincipal",
      });
      expect(inputs.roleAssignmentName).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
    }
  });

  it("pulls the image with the managed identity and no registry username or password", () => {
    const app = recorder.one(APP, "withsecret");
    const identity = recorder.one(IDENTITY, "withsecret");
    const configuration = app.inputs.configuration as { registries: Record<string, unknown>[] };
    expect(configuration.registries).toEqual([
      { server: "contosoacr.azurecr.io", identity: identity.id },
    ]);
    expect(containerOf("withsecret").image).toBe(
      "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
    );
  });

  it("runs one replica as the user-assigned identity, with liveness on /livez and readiness on /healthz", () => {
    const app = recorder.one(APP, "withsecret");
    const identity = recorder.one(IDENTITY, "withsecret");
    expect(app.inputs.identity).toEqual({
      type: "UserAssigned",
      userAssignedIdentities: [identity.id],
    });
    expect(app.inputs.managedEnvironmentId).toBe(recorder.one(ENVIRONMENT, "withsecret").id);
    const template = app.inputs.template as { scale: unknown };
    expect(template.scale).toEqual({ minReplicas: 1, maxReplicas: 1 });
    const probes = containerOf("withsecret").probes;
    expect(probes.map((p) => p.type)).toEqual(["Liveness", "Readiness"]);
    // /healthz is 503 while a tenant configuration error waits for an operator; as liveness
    // it would restart the collector over and over.
    expect(probes[0]!.httpGet).toEqual({ path: "/livez", port: 9464, scheme: "HTTP" });
    expect(probes[1]!.httpGet).toEqual({ path: "/healthz", port: 9464, scheme: "HTTP" });
  });

  it("sends the environment's logs to the workspace with the shared key marked secret", () => {
    const environment = recorder.one(ENVIRONMENT, "withsecret");
    expect(isSecretInput(environment.inputs.appLogsConfiguration)).toBe(true);
    expect(plain(environment.inputs.appLogsConfiguration)).toEqual({
      destination: "log-analytics",
      logAnalyticsConfiguration: {
        customerId: "cccccccc-0000-0000-0000-000000000001",
        sharedKey: MOCK.sharedKey,
      },
    });
  });

  it("exposes the checkpoint URL and the Container App's name", async () => {
    expect(await resolved(service.checkpointUrl)).toBe(
      "https://stcontosoa1b2c3.blob.core.windows.net/checkpoints",
    );
    expect(await resolved(service.containerAppName)).toBe("ca-contoso-collector");
  });
});

describe("CollectorService in keyless mode", () => {
  it("passes the identity as the federated credential and creates no Key Vault", () => {
    const env = envOf("keyless");
    const identity = recorder.one(IDENTITY, "keyless");
    expect(env.AUDIT_FEDERATED_IDENTITY_CLIENT_ID?.value).toBe(identity.state.clientId);
    expect(env).not.toHaveProperty("AZURE_CLIENT_SECRET");
    expect(env).not.toHaveProperty("AZURE_CLIENT_CERTIFICATE_PATH");
    expect(recorder.ofType(VAULT, "keyless")).toEqual([]);
    expect(recorder.ofType(SECRET, "keyless")).toEqual([]);
    expect(
      (recorder.one(APP, "keyless").inputs.configuration as { secrets: unknown[] }).secrets,
    ).toEqual([]);
  });

  it("pulls no image through a registry credential when no registry is configured", () => {
    expect(
      (recorder.one(APP, "keyless").inputs.configuration as { registries: unknown[] }).registries,
    ).toEqual([]);
    const roles = recorder
      .ofType(ROLE, "keyless")
      .map((r) => String(r.inputs.roleDefinitionId).split("/").pop());
    expect(roles).toEqual(["ba92f5b4-2d11-453d-a403-e96b0029c9fe"]);
  });
});

describe("CollectorService with a certificate", () => {
  it("mounts the PEM bundle from Key Vault as a file and points the collector at it", () => {
    const env = envOf("withcert");
    expect(env.AZURE_CLIENT_CERTIFICATE_PATH?.value).toBe(
      "/mnt/credentials/client-certificate.pem",
    );
    expect(env).not.toHaveProperty("AZURE_CLIENT_SECRET");
    const app = recorder.one(APP, "withcert");
    const template = app.inputs.template as { volumes: unknown[] };
    expect(template.volumes).toEqual([
      {
        name: "credentials",
        storageType: "Secret",
        secrets: [{ secretRef: "client-certificate", path: "client-certificate.pem" }],
      },
    ]);
    expect(containerOf("withcert").volumeMounts).toEqual([
      { volumeName: "credentials", mountPath: "/mnt/credentials" },
    ]);
    const secret = recorder.one(SECRET, "withcert");
    expect(isSecretInput(secret.inputs.properties)).toBe(true);
    expect(plain(secret.inputs.properties)).toMatchObject({
      value: CERT_BUNDLE,
      contentType: "application/x-pem-file",
    });
    expect(JSON.stringify(plain(app.inputs))).not.toContain("PRIVATE KEY");
  });
});
