import * as azuread from "@pulumi/azuread";
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
const JOB = "azure-native:app:Job";
const SLEEP = "time:index/sleep:Sleep";
const DIAGNOSTICS = "azure-native:monitor:DiagnosticSetting";
const SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";
const WORKSPACE_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-auditbridge-contoso/providers/Microsoft.OperationalInsights/workspaces/log-contoso";

type EnvVar = { name: string; value?: string; secretRef?: string };
type Container = {
  env: EnvVar[];
  image: string;
  probes: Record<string, unknown>[];
  volumeMounts?: unknown[];
};

let recorder: Recorder;
let service: import("../../components/collectorService").CollectorService;
let badWait: unknown;
let scheduled: import("../../components/collectorService").CollectorService;
const badModes: Record<string, unknown> = {};

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
    workspaceResourceId: WORKSPACE_ID,
  });
  // Stands in for a grant made by another component (admin consent of the app).
  const externalConsent = new azuread.AppRoleAssignment("external-consent", {
    appRoleId: "594c1fb6-4f81-4475-ae41-0c394909246c",
    principalObjectId: "0b0b0b0b-0000-0000-0000-000000000001",
    resourceObjectId: MOCK.managementApiObjectId,
  });
  service = new CollectorService("withsecret", {
    ...common("contoso"),
    registryResourceId: REGISTRY_ID,
    startAfter: [externalConsent],
    roleAssignmentWaitSeconds: 120,
    deployerPrincipalType: "ServicePrincipal",
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
    recoverSoftDeletedVault: true,
  });
  scheduled = new CollectorService("scheduled", {
    ...common("scheduled"),
    registryResourceId: REGISTRY_ID,
    startAfter: [externalConsent],
    credential: {
      mode: "secret",
      clientSecret: pulumi.secret(CLIENT_SECRET),
      expiresAt: "2027-03-27T00:00:00Z",
      rotationSlot: 3,
    },
    mode: { kind: "scheduled", cronExpression: "*/5 * * * *" },
  });
  new CollectorService("hourlyjob", {
    ...common("hourlyjob"),
    credential: { mode: "certificate", certificatePem: pulumi.secret(CERT_BUNDLE) },
    mode: { kind: "scheduled", cronExpression: "0 * * * *", replicaTimeoutSeconds: 7200 },
  });
  new CollectorService("dailyjob", {
    ...common("dailyjob"),
    credential: { mode: "federated" },
    mode: { kind: "scheduled", cronExpression: "30 2 * * *" },
  });
  for (const [label, mode] of Object.entries({
    badcron: { kind: "scheduled" as const, cronExpression: "* * * * *" },
    badtimeout: {
      kind: "scheduled" as const,
      cronExpression: "*/5 * * * *",
      replicaTimeoutSeconds: 60,
    },
  })) {
    try {
      new CollectorService(label, { ...common(label), credential: { mode: "federated" }, mode });
    } catch (error) {
      badModes[label] = error;
    }
  }
  try {
    new CollectorService("badwait", {
      ...common("badwait"),
      credential: { mode: "federated" },
      roleAssignmentWaitSeconds: 5000,
    });
  } catch (error) {
    badWait = error;
  }
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
    // One name for every credential mode: switching secret ↔ certificate updates it in place.
    expect(secret.inputs.secretName).toBe("collector-credential");
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
        .filter((r) => r.inputs.principalId === identity.state.principalId)
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

  it("runs one replica as the user-assigned identity, with every probe on /livez and none on /healthz", () => {
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
    expect(probes.map((p) => p.type)).toEqual(["Startup", "Liveness", "Readiness"]);
    // /healthz is 503 until the tenant is healthy: as readiness or startup the first revision
    // would never become ready; as liveness it would restart a collector waiting for an operator.
    for (const probe of probes) {
      expect(probe.httpGet).toEqual({ path: "/livez", port: 9464, scheme: "HTTP" });
    }
    expect(JSON.stringify(app.inputs)).not.toContain("/healthz");
  });

  it("sends the environment's logs through Azure Monitor to the workspace, with no shared key anywhere", () => {
    const environment = recorder.one(ENVIRONMENT, "withsecret");
    expect(environment.inputs.appLogsConfiguration).toEqual({ destination: "azure-monitor" });
    const diagnostics = recorder.one(DIAGNOSTICS, "withsecret");
    expect(diagnostics.inputs).toMatchObject({
      resourceUri: environment.id,
      workspaceId: WORKSPACE_ID,
      logAnalyticsDestinationType: "Dedicated",
      logs: [
        { category: "ContainerAppConsoleLogs", enabled: true },
        { category: "ContainerAppSystemLogs", enabled: true },
      ],
    });
    for (const resource of recorder.resources) {
      // (allowSharedKeyAccess: false on the storage account is about storage keys, not this.)
      expect(JSON.stringify(plain(resource.inputs)), resource.name).not.toMatch(
        /"sharedKey"|primarySharedKey|logAnalyticsConfiguration/,
      );
    }
    expect(recorder.invokesOf("azure-native:operationalinsights:getSharedKeys")).toEqual([]);
  });

  it("lets destroy remove the credential: deleted with its vault, and the deployer holds Secrets Officer on that vault only", () => {
    const vault = recorder.one(VAULT, "withsecret");
    const secret = recorder.one(SECRET, "withsecret");
    const officer = recorder.one(ROLE, "withsecret-deployer-secrets-officer");
    expect(secret.options.deletedWith).toBe(vault.name);
    // Created before the secret, so deleted after it.
    expect(secret.options.dependsOn).toContain(officer.name);
    expect(officer.inputs).toMatchObject({
      principalId: MOCK.deployer.objectId,
      scope: vault.id,
      roleDefinitionId: `/subscriptions/${MOCK.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${SECRETS_OFFICER}`,
    });
    // ARM refuses a principalType that does not match the principal: it comes from config.
    expect(officer.inputs.principalType).toBe("ServicePrincipal");
    expect(recorder.one(ROLE, "withcert-deployer-secrets-officer").inputs.principalType).toBe(
      "User",
    );
    const officers = recorder
      .ofType(ROLE)
      .filter((r) => String(r.inputs.roleDefinitionId).endsWith(SECRETS_OFFICER));
    expect(officers.map((r) => r.inputs.scope).sort()).toEqual(
      recorder
        .ofType(VAULT)
        .map((v) => v.id)
        .sort(),
    );
  });

  it("creates the vault normally unless recovery is asked for, and never updates it over createMode", () => {
    const vault = recorder.one(VAULT, "withsecret");
    expect(vault.inputs.properties).not.toHaveProperty("createMode");
    expect(vault.options.ignoreChanges).toEqual(["properties.createMode"]);
  });

  it("waits for every grant, its own and the ones made elsewhere, before creating the app", () => {
    const sleep = recorder.one(SLEEP, "withsecret");
    expect(sleep.inputs.createDuration).toBe("120s");
    const grants = recorder
      .ofType(ROLE, "withsecret")
      .filter(
        (r) => r.inputs.principalId === recorder.one(IDENTITY, "withsecret").state.principalId,
      )
      .map((r) => r.name);
    expect(grants).toHaveLength(3);
    for (const grant of [...grants, "external-consent"]) {
      expect(sleep.options.dependsOn, grant).toContain(grant);
    }
    expect(String((sleep.inputs.triggers as { grants: string }).grants).split(",")).toHaveLength(4);
    const app = recorder.one(APP, "withsecret");
    for (const dependency of [sleep.name, ...grants, "external-consent"]) {
      expect(app.options.dependsOn, dependency).toContain(dependency);
    }
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

  it("waits the default 90 seconds after its one grant", () => {
    const sleep = recorder.one(SLEEP, "keyless");
    expect(sleep.inputs.createDuration).toBe("90s");
    expect(sleep.options.dependsOn).toContain("keyless-checkpoint-writer");
    expect(recorder.one(APP, "keyless").options.dependsOn).toContain(sleep.name);
  });
});

describe("CollectorService argument checks", () => {
  it("refuses a role assignment wait beyond 30 minutes in one line before creating anything", () => {
    expect((badWait as Error).message).toBe(
      "CollectorService badwait: roleAssignmentWaitSeconds must be a whole number between 0 and 1800 (got 5000)",
    );
    expect(recorder.resources.filter((r) => r.name.startsWith("badwait"))).toEqual([]);
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
    expect(secret.inputs.secretName).toBe("collector-credential");
    expect(isSecretInput(secret.inputs.properties)).toBe(true);
    expect(plain(secret.inputs.properties)).toMatchObject({
      value: CERT_BUNDLE,
      contentType: "application/x-pem-file",
    });
    expect(JSON.stringify(plain(app.inputs))).not.toContain("PRIVATE KEY");
  });

  it("recovers the soft-deleted vault of the same name when asked, at creation only", () => {
    const vault = recorder.one(VAULT, "withcert");
    expect(vault.inputs.properties).toMatchObject({ createMode: "recover" });
    expect(vault.options.ignoreChanges).toEqual(["properties.createMode"]);
  });
});

describe("CollectorService in scheduled mode", () => {
  type JobConfiguration = {
    triggerType: string;
    scheduleTriggerConfig: Record<string, unknown>;
    replicaTimeout: number;
    replicaRetryLimit: number;
    secrets: Record<string, unknown>[];
    registries: Record<string, unknown>[];
  };
  type JobContainer = Container & { args: string[]; resources: unknown; name: string };
  const configurationOf = (prefix: string) =>
    recorder.one(JOB, prefix).inputs.configuration as JobConfiguration;
  const jobContainerOf = (prefix: string): JobContainer => {
    const template = recorder.one(JOB, prefix).inputs.template as { containers: JobContainer[] };
    expect(template.containers).toHaveLength(1);
    return template.containers[0]!;
  };

  it("creates a Container Apps Job on the cron schedule instead of a Container App", () => {
    expect(recorder.ofType(APP, "scheduled")).toEqual([]);
    const job = recorder.one(JOB, "scheduled");
    expect(job.inputs).toMatchObject({
      resourceGroupName: RG,
      jobName: "caj-scheduled-collector",
      location: "westeurope",
      environmentId: recorder.one(ENVIRONMENT, "scheduled").id,
    });
    const configuration = configurationOf("scheduled");
    expect(configuration.triggerType).toBe("Schedule");
    // One replica per execution: one writer per tenant checkpoint.
    expect(configuration.scheduleTriggerConfig).toEqual({
      cronExpression: "*/5 * * * *",
      parallelism: 1,
      replicaCompletionCount: 1,
    });
    // 30 minutes for a 5-minute schedule: a catch-up outlives the interval; the lease holds
    // the next executions off.
    expect(configuration.replicaTimeout).toBe(1800);
    expect(configuration.replicaRetryLimit).toBe(1);
  });

  it("runs the image's command with --once, with no probes and no ingress", async () => {
    const { COLLECTOR_RUN_ONCE_ARGS } = await import("../../components/collectorJob");
    const container = jobContainerOf("scheduled");
    expect(container.args).toEqual([...COLLECTOR_RUN_ONCE_ARGS]);
    expect(container.args.slice(-2)).toEqual(["run", "--once"]);
    expect(container).not.toHaveProperty("probes");
    expect(container.image).toBe("contosoacr.azurecr.io/auditbridge-collector:0.1.0");
    expect(container.resources).toEqual({ cpu: 0.25, memory: "0.5Gi" });
    const job = recorder.one(JOB, "scheduled");
    expect(JSON.stringify(job.inputs)).not.toMatch(/ingress|\/livez|\/healthz/);
  });

  it("runs as the same identity with the same Key Vault secret reference, registry and environment as the app", () => {
    const job = recorder.one(JOB, "scheduled");
    const identity = recorder.one(IDENTITY, "scheduled");
    expect(job.inputs.identity).toEqual({
      type: "UserAssigned",
      userAssignedIdentities: [identity.id],
    });
    const configuration = configurationOf("scheduled");
    const secret = recorder.one(SECRET, "scheduled");
    expect(configuration.secrets).toEqual([
      {
        name: "client-secret-3",
        keyVaultUrl: (secret.state.properties as { secretUri: string }).secretUri,
        identity: identity.id,
      },
    ]);
    expect(configuration.registries).toEqual([
      { server: "contosoacr.azurecr.io", identity: identity.id },
    ]);
    // The same variables as the always-on app gets for the same inputs.
    const env = Object.fromEntries(jobContainerOf("scheduled").env.map((e) => [e.name, e]));
    expect(Object.keys(env)).toEqual(Object.keys(envOf("withsecret")));
    expect(env.AZURE_CLIENT_SECRET).toEqual({
      name: "AZURE_CLIENT_SECRET",
      secretRef: "client-secret-3",
    });
    expect(env.AUDIT_STATE?.value).toBe(
      "https://stscheduleda1b2c3.blob.core.windows.net/checkpoints",
    );
    expect(env.AUDIT_MANAGED_IDENTITY_CLIENT_ID?.value).toBe(identity.state.clientId);
    expect(JSON.stringify(plain(job.inputs))).not.toContain(CLIENT_SECRET);
  });

  it("waits for every grant and the role propagation sleep before the job exists, like the app", () => {
    const sleep = recorder.one(SLEEP, "scheduled");
    const job = recorder.one(JOB, "scheduled");
    const grants = recorder
      .ofType(ROLE, "scheduled")
      .filter((r) => r.inputs.principalId === recorder.one(IDENTITY, "scheduled").state.principalId)
      .map((r) => r.name);
    expect(grants).toHaveLength(3);
    for (const dependency of [sleep.name, ...grants, "external-consent"]) {
      expect(job.options.dependsOn, dependency).toContain(dependency);
      if (dependency !== sleep.name) expect(sleep.options.dependsOn).toContain(dependency);
    }
  });

  it("mounts a certificate from Key Vault and takes a given replica timeout", () => {
    const configuration = configurationOf("hourlyjob");
    expect(configuration.scheduleTriggerConfig.cronExpression).toBe("0 * * * *");
    expect(configuration.replicaTimeout).toBe(7200);
    const template = recorder.one(JOB, "hourlyjob").inputs.template as { volumes: unknown[] };
    expect(template.volumes).toEqual([
      {
        name: "credentials",
        storageType: "Secret",
        secrets: [{ secretRef: "client-certificate", path: "client-certificate.pem" }],
      },
    ]);
    expect(jobContainerOf("hourlyjob").volumeMounts).toEqual([
      { volumeName: "credentials", mountPath: "/mnt/credentials" },
    ]);
  });

  it("gives a daily job the day as its replica timeout, and a keyless job no secrets", () => {
    const configuration = configurationOf("dailyjob");
    expect(configuration.replicaTimeout).toBe(86_400);
    expect(configuration.secrets).toEqual([]);
    expect(configuration.registries).toEqual([]);
  });

  it("names the job and leaves the app name empty; an always-on service the reverse", async () => {
    expect(await resolved(scheduled.collectorJobName)).toBe("caj-scheduled-collector");
    expect(await resolved(scheduled.containerAppName)).toBe("");
    expect(await resolved(service.collectorJobName)).toBe("");
    expect(recorder.ofType(JOB, "withsecret")).toEqual([]);
  });

  it("refuses a bad schedule or replica timeout in one line before creating anything", () => {
    expect((badModes.badcron as Error).message).toBe(
      "CollectorService badcron: mode.cronExpression runs 1 minute apart at times; runs must be at least 5 minutes apart (for fresher data use collectorMode always-on)",
    );
    expect((badModes.badtimeout as Error).message).toBe(
      "CollectorService badtimeout: mode.replicaTimeoutSeconds must be a whole number of seconds from 300 (5 minutes) to 86400 (24 hours)",
    );
    expect(recorder.resources.filter((r) => r.name.startsWith("bad"))).toEqual([]);
  });
});
