/**
 * The program with sinks=syslog,splunk-hec and no logs-ingestion, keyless: the collector sends to
 * a syslog receiver over mutual TLS and to Splunk HEC, and no workspace, table or DCR exists. The
 * HEC token and the client key are secrets: they reach Key Vault and nothing else.
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import {
  isSecret,
  isSecretInput,
  MOCK,
  plain,
  type RecordedResource,
  type Recorder,
  runProgram,
} from "./mocks";
import { cliConfigFor, readProject } from "./pulumiProject";
import { HEC_TOKEN, makeSinkPems, type SinkPems } from "./sinkFixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const LOGS_WORKSPACE =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-shared/providers/Microsoft.OperationalInsights/workspaces/log-platform";
const VAULT = "azure-native:keyvault:Vault";
const SECRET = "azure-native:keyvault:Secret";
const ROLE = "azure-native:authorization:RoleAssignment";
const APP = "azure-native:app:ContainerApp";
const SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6";

type EnvVar = { name: string; value?: string; secretRef?: string };
type AppSecret = { name: string; value?: string; keyVaultUrl?: string; identity?: string };
type Volume = { name: string; storageType: string; secrets: { secretRef: string; path: string }[] };

let recorder: Recorder;
let pems: SinkPems;
let program: Record<string, pulumi.Output<string>>;
let outputs: Record<string, string>;

beforeAll(async () => {
  pems = await makeSinkPems();
  const project = readProject(ROOT);
  pulumi.runtime.setAllConfig(
    {
      ...cliConfigFor(project, "example"),
      "auditbridge:credentialMode": "federated",
      // Keyless needs the app in the subscription's tenant (the mocks' managed identity's).
      "auditbridge:azureTenantId": MOCK.azureTenantId,
      "auditbridge:sinks": "splunk-hec, syslog",
      "auditbridge:workspaceResourceId": LOGS_WORKSPACE,
      "auditbridge:syslogUrl": "tls://siem.example.com:6514",
      "auditbridge:syslogFormat": "leef",
      "auditbridge:syslogCaPem": pems.caPem,
      "auditbridge:syslogClientCertPem": pems.clientCertPem,
      "auditbridge:syslogClientKeyPem": pems.clientKeyPem,
      "auditbridge:splunkHecUrl": "https://splunk.example.com:8088",
      "auditbridge:splunkHecToken": HEC_TOKEN,
      "auditbridge:splunkHecIndex": "o365",
      "auditbridge:splunkHecAck": "true",
      "auditbridge:splunkHecCaPem": pems.caPem,
    },
    ["auditbridge:syslogClientKeyPem", "auditbridge:splunkHecToken"],
  );
  ({ recorder, program, outputs } = await runProgram(
    path.resolve(ROOT, project.main),
    project.name,
  ));
});

function container(): { env: EnvVar[]; volumeMounts: { volumeName: string; mountPath: string }[] } {
  const template = recorder.one(APP).inputs.template as {
    containers: { env: EnvVar[]; volumeMounts: { volumeName: string; mountPath: string }[] }[];
  };
  return template.containers[0]!;
}

function env(): Record<string, EnvVar> {
  return Object.fromEntries(container().env.map((e) => [e.name, e]));
}

function appSecrets(): AppSecret[] {
  return (recorder.one(APP).inputs.configuration as { secrets: AppSecret[] }).secrets;
}

function vaultSecret(secretName: string): RecordedResource {
  const found = recorder.ofType(SECRET).filter((s) => s.inputs.secretName === secretName);
  expect(found, secretName).toHaveLength(1);
  return found[0]!;
}

describe("the program with sinks syslog and splunk-hec and no logs-ingestion", () => {
  it("creates no workspace, table, data collection endpoint or rule, and no publisher role", () => {
    for (const type of [
      "auditbridge:monitor:LogAnalyticsDestination",
      "azure-native:operationalinsights:Workspace",
      "azure-native:operationalinsights:Table",
      "azure-native:monitor:DataCollectionEndpoint",
      "azure-native:monitor:DataCollectionRule",
    ]) {
      expect(recorder.ofType(type), type).toEqual([]);
    }
    const roles = recorder.ofType(ROLE).map((r) => r.name);
    expect(roles.filter((name) => name.includes("publisher"))).toEqual([]);
    // Checkpoints, image pull, the deployer on the vault, and one reader per vault secret.
    expect(roles.sort()).toEqual(
      [
        "tenant-collector-checkpoint-writer",
        "tenant-collector-deployer-secrets-officer",
        "tenant-collector-image-puller",
        "tenant-collector-splunk-hec-token-reader",
        "tenant-collector-syslog-client-key-reader",
      ].sort(),
    );
  });

  it("sends the Container Apps environment's logs to the workspace given for them", () => {
    expect(recorder.one("azure-native:monitor:DiagnosticSetting").inputs.workspaceId).toBe(
      LOGS_WORKSPACE,
    );
  });

  it("sets AUDIT_SINK and the syslog and Splunk HEC settings, and nothing of Logs Ingestion", () => {
    const vars = env();
    expect(Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, v.value]))).toMatchObject({
      AUDIT_SINK: "syslog,splunk-hec",
      SYSLOG_URL: "tls://siem.example.com:6514",
      SYSLOG_FORMAT: "leef",
      SYSLOG_APP_NAME: "auditbridge",
      SYSLOG_MAX_MESSAGE_BYTES: "8192",
      SYSLOG_CA_FILE: "/mnt/sink-files/syslog-ca.pem",
      SYSLOG_CLIENT_CERT_FILE: "/mnt/sink-files/syslog-client-cert.pem",
      SYSLOG_CLIENT_KEY_FILE: "/mnt/sink-files/syslog-client-key.pem",
      SPLUNK_HEC_URL: "https://splunk.example.com:8088",
      SPLUNK_HEC_INDEX: "o365",
      SPLUNK_HEC_SOURCETYPE: "o365:management:activity",
      SPLUNK_HEC_ACK: "true",
      SPLUNK_HEC_CA_FILE: "/mnt/sink-files/splunk-hec-ca.pem",
    });
    for (const name of Object.keys(vars)) expect(name).not.toMatch(/^LOGS_INGESTION_/);
    // Keyless: the federated identity, no client secret.
    expect(vars.AUDIT_FEDERATED_IDENTITY_CLIENT_ID?.value).toEqual(expect.any(String));
    expect(vars.AZURE_CLIENT_SECRET).toBeUndefined();
  });

  it("passes the HEC token as a secret reference to a Key Vault reference read with the identity", () => {
    const token = env().SPLUNK_HEC_TOKEN!;
    expect(token).not.toHaveProperty("value");
    const referenced = appSecrets().find((s) => s.name === token.secretRef);
    const kv = vaultSecret("splunk-hec-token");
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    expect(referenced).toEqual({
      name: "splunk-hec-token-0123456789ab",
      keyVaultUrl: (kv.state.properties as { secretUriWithVersion: string }).secretUriWithVersion,
      identity: identity.id,
    });
  });

  it("mounts the CA, the client certificate and the Key Vault-held client key as files", () => {
    const volumes = (recorder.one(APP).inputs.template as { volumes: Volume[] }).volumes;
    expect(volumes).toHaveLength(1);
    const [volume] = volumes;
    expect(volume!.storageType).toBe("Secret");
    const byPath = Object.fromEntries(volume!.secrets.map((s) => [s.path, s.secretRef]));
    expect(Object.keys(byPath).sort()).toEqual([
      "splunk-hec-ca.pem",
      "syslog-ca.pem",
      "syslog-client-cert.pem",
      "syslog-client-key.pem",
    ]);
    expect(container().volumeMounts).toContainEqual({
      volumeName: volume!.name,
      mountPath: "/mnt/sink-files",
    });
    const secret = (ref: string) => appSecrets().find((s) => s.name === ref)!;
    // Public certificates travel as plain Container Apps secrets, named after their content.
    expect(secret(byPath["syslog-ca.pem"]!).value).toBe(pems.caPem.trim());
    expect(secret(byPath["splunk-hec-ca.pem"]!).value).toBe(pems.caPem.trim());
    expect(secret(byPath["syslog-client-cert.pem"]!).value).toBe(pems.clientCertPem.trim());
    expect(byPath["syslog-ca.pem"]).toMatch(/^syslog-ca-[0-9a-f]{12}$/);
    // The key is a Key Vault reference, never a value.
    const key = secret(byPath["syslog-client-key.pem"]!);
    expect(key).not.toHaveProperty("value");
    expect(key.keyVaultUrl).toBe(
      (vaultSecret("syslog-client-key").state.properties as { secretUriWithVersion: string })
        .secretUriWithVersion,
    );
  });

  it("keeps the token and the key in Key Vault as Pulumi secrets, and sends them nowhere else", () => {
    for (const [secretName, value] of [
      ["splunk-hec-token", HEC_TOKEN],
      ["syslog-client-key", pems.clientKeyPem.trim()],
    ] as const) {
      const kv = vaultSecret(secretName);
      // azure-native sends `properties` through an apply, so Pulumi marks the whole object secret.
      expect(isSecretInput(kv.inputs.properties), secretName).toBe(true);
      expect((plain(kv.inputs.properties) as { value: string }).value).toBe(value);
      // The private key's body, without its armour lines, is what must never leak.
      const needle = secretName === "syslog-client-key" ? value.split("\n")[1]! : value;
      for (const resource of recorder.resources) {
        const seen = JSON.stringify([
          plain(resource.state),
          resource === kv ? {} : plain(resource.inputs),
        ]);
        expect(seen, `${secretName} in ${resource.name}`).not.toContain(needle);
      }
      expect(JSON.stringify(outputs)).not.toContain(needle);
    }
  });

  it("grants the collector's identity Secrets User on each sink secret and starts the app after the grants", () => {
    const identity = recorder.one("azure-native:managedidentity:UserAssignedIdentity");
    const app = recorder.one(APP);
    for (const secretName of ["splunk-hec-token", "syslog-client-key"]) {
      const kv = vaultSecret(secretName);
      const grant = recorder.one(ROLE, `tenant-collector-${secretName}-reader`);
      expect(grant.inputs).toMatchObject({
        principalId: identity.state.principalId,
        principalType: "ServicePrincipal",
        scope: kv.id,
        roleDefinitionId: expect.stringContaining(SECRETS_USER),
      });
      expect(app.options.dependsOn).toContain(grant.name);
      // Deleted with the vault (an RBAC vault refuses the data-plane delete), after the officer grant.
      expect(kv.options.deletedWith).toBe("tenant-collector-vault");
      expect(kv.options.dependsOn).toContain("tenant-collector-deployer-secrets-officer");
    }
  });

  it("creates the vault in keyless mode for the sinks' secrets, and exports it", () => {
    const vault = recorder.one(VAULT);
    expect(outputs).toMatchObject({
      collector: "bundled",
      collectorMode: "always-on",
      sinks: "syslog,splunk-hec",
      credentialMode: "federated",
      clientSecretName: "",
      credentialSecretName: "",
      secretExpiresAt: "",
      keyVaultName: vault.inputs.vaultName,
      keyVaultUri: `https://${vault.inputs.vaultName}.vault.azure.net/`,
      workspaceResourceId: "",
      workspaceCustomerId: "",
      dcrImmutableId: "",
      ingestionEndpoint: "",
      officeActivityFunction: "",
      collectorAppName: "ca-contoso-collector",
    });
  });

  it("exports nothing secret", async () => {
    for (const [name, output] of Object.entries(program)) {
      expect(await isSecret(output), name).toBe(false);
    }
  });
});
