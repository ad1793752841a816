import selfsigned from "selfsigned";
import { beforeAll, describe, expect, it } from "vitest";
import { projectionKql, streamDeclarationColumns } from "../../components/dcrSchema";
import { resourceNames, roleAssignmentName, uniqueSuffix, uuidV5 } from "../../components/naming";
import { managementRolesFor, resolveAppRoleIds, roleDefinitionIdFor } from "../../components/roles";
import { MIN_PASSWORD_VALIDITY_DAYS, secretSchedule } from "../../components/secretRotation";
import {
  certificateBlock,
  closestName,
  imageReferenceProblem,
  namePrefixFromStack,
  parseResourceId,
} from "../../components/validators";
import { parseContentTypes } from "../../domain/contentTypes";
import { parseStackConfig, StackConfigError } from "../../stacks/config";
import { parseYamlSubset } from "./pulumiProject";

const NOW = Date.parse("2026-11-27T12:00:00Z");
const TENANT = "11111111-2222-3333-4444-555555555555";
const WORKSPACE_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-logs/providers/Microsoft.OperationalInsights/workspaces/log-shared";
const REGISTRY_ID =
  "/subscriptions/00000000-0000-0000-0000-0000000000aa/resourceGroups/rg-shared/providers/Microsoft.ContainerRegistry/registries/contosoacr";

/** The smallest valid stack config. */
const BASE: Readonly<Record<string, string>> = {
  m365TenantId: TENANT,
  location: "westeurope",
  resourceGroupName: "rg-auditbridge-contoso",
  collectorImage: "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
};

let validBundle = "";
let expiredBundle = "";

beforeAll(async () => {
  const make = (notBeforeDate: Date, notAfterDate: Date) =>
    selfsigned.generate([{ name: "commonName", value: "auditbridge-test" }], {
      keyType: "ec",
      algorithm: "sha256",
      notBeforeDate,
      notAfterDate,
    });
  const valid = await make(new Date("2026-06-01T00:00:00Z"), new Date("2027-06-01T00:00:00Z"));
  const expired = await make(new Date("2025-01-01T00:00:00Z"), new Date("2026-01-01T00:00:00Z"));
  validBundle = `${valid.cert}${valid.private}`;
  expiredBundle = `${expired.cert}${expired.private}`;
});

interface ParseOptions {
  stack?: string;
  secretKeys?: string[];
  azureNative?: { subscriptionId?: string; environment?: string };
}

function parse(overrides: Record<string, string | undefined>, options: ParseOptions = {}) {
  const raw: Record<string, string | undefined> = { ...BASE, ...overrides };
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete raw[k];
  return parseStackConfig(raw, {
    stack: options.stack ?? "contoso",
    nowMs: NOW,
    secretKeys: new Set(options.secretKeys ?? []),
    ...(options.azureNative ? { azureNative: options.azureNative } : {}),
  });
}

function errorOf(fn: () => unknown): StackConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof StackConfigError) return error;
    throw error;
  }
  throw new Error("expected a StackConfigError");
}

describe("parseStackConfig with valid config", () => {
  it("applies every default and returns a frozen config", () => {
    const config = parse({});
    expect(config).toEqual({
      stack: "contoso",
      m365TenantId: TENANT,
      cloud: "commercial",
      location: "westeurope",
      resourceGroupName: "rg-auditbridge-contoso",
      namePrefix: "contoso",
      appDisplayName: "AuditBridge audit reader (contoso)",
      contentTypes: [
        "Audit.AzureActiveDirectory",
        "Audit.Exchange",
        "Audit.SharePoint",
        "Audit.General",
        "DLP.All",
      ],
      includeServiceHealth: false,
      publisherId: TENANT,
      credential: {
        mode: "secret",
        lifetimeDays: 180,
        rotationDays: 90,
        rotationAnchor: "2026-01-01",
        nowMs: NOW,
      },
      workspace: { kind: "new", retentionInDays: 90 },
      tableName: "M365Audit_CL",
      // The bundled collector, delivering to Log Analytics only.
      collector: "bundled",
      sinks: { logsIngestion: true },
      tablePlan: "Analytics",
      collectorImage: "contosoacr.azurecr.io/auditbridge-collector:0.1.0",
      // An always-on Container App; a scheduled job would run every 5 minutes.
      collectorMode: "always-on",
      collectorSchedule: "*/5 * * * *",
      // Lifecycle defaults: no vault recovery, audit data kept on destroy, 90 s for RBAC.
      keyVaultRecoverSoftDeleted: false,
      deleteDataOnDestroy: false,
      roleAssignmentWaitSeconds: 90,
      deployerPrincipalType: "User",
      // Sentinel off by default; the OfficeActivity-shaped function is deployed either way.
      sentinel: { enabled: false },
      // Unified audit logging is left as it is unless the stack asks to turn it on.
      enableAuditLogging: false,
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.credential)).toBe(true);
    expect(Object.isFrozen(config.contentTypes)).toBe(true);
  });

  it("reads the lifecycle keys and the azure-native provider's subscription and environment", () => {
    const config = parse(
      {
        cloud: "gcchigh",
        keyVaultRecoverSoftDeleted: "true",
        deleteDataOnDestroy: "true",
        roleAssignmentWaitSeconds: "0",
        deployerPrincipalType: "ServicePrincipal",
      },
      {
        azureNative: {
          subscriptionId: "00000000-0000-0000-0000-0000000000AA",
          environment: "USGovernment",
        },
      },
    );
    expect(config).toMatchObject({
      cloud: "gcchigh",
      keyVaultRecoverSoftDeleted: true,
      deleteDataOnDestroy: true,
      roleAssignmentWaitSeconds: 0,
      deployerPrincipalType: "ServicePrincipal",
      azureSubscriptionId: "00000000-0000-0000-0000-0000000000aa",
      azureEnvironment: "usgovernment",
    });
    expect(parse({}, { azureNative: {} })).not.toHaveProperty("azureEnvironment");
    expect(parse({ cloud: "gcc" }).cloud).toBe("gcc");
  });

  it("reads the Sentinel keys into one argument", () => {
    expect(parse({ sentinel: "true" }).sentinel).toEqual({
      enabled: true,
      onboarding: "create",
      rulesEnabled: true,
    });
    expect(
      parse({ sentinel: "true", sentinelOnboarding: "existing", sentinelRulesEnabled: "false" })
        .sentinel,
    ).toEqual({ enabled: true, onboarding: "existing", rulesEnabled: false });
    expect(parse({ sentinelRulesEnabled: "false" }).sentinel).toEqual({ enabled: false });
  });

  it("reads the scheduled mode, with the default schedule or a given one", () => {
    expect(parse({ collectorMode: "scheduled" })).toMatchObject({
      collectorMode: "scheduled",
      collectorSchedule: "*/5 * * * *",
    });
    expect(parse({ collectorMode: "scheduled", collectorSchedule: " 0  * * * * " })).toMatchObject({
      collectorMode: "scheduled",
      collectorSchedule: "0 * * * *",
    });
  });

  it("reads the table plan, Analytics by default, in any letter case", () => {
    expect(parse({}).tablePlan).toBe("Analytics");
    expect(parse({ tablePlan: "Basic" }).tablePlan).toBe("Basic");
    expect(parse({ tablePlan: "basic" }).tablePlan).toBe("Basic");
    expect(parse({ tablePlan: "ANALYTICS", sentinel: "true" }).tablePlan).toBe("Analytics");
  });

  it("reads enableAuditLogging", () => {
    expect(parse({ enableAuditLogging: "true" }).enableAuditLogging).toBe(true);
    expect(parse({ enableAuditLogging: "false" }).enableAuditLogging).toBe(false);
  });

  it("derives the name prefix from the stack name", () => {
    expect(parse({}, { stack: "Contoso-Prod_EU-2026" }).namePrefix).toBe("contosoprode");
  });

  it("normalises content types: case, order and duplicates", () => {
    expect(parse({ contentTypes: "dlp.all, audit.exchange,Audit.Exchange" }).contentTypes).toEqual([
      "Audit.Exchange",
      "DLP.All",
    ]);
  });

  it("reads an existing workspace, a daily cap, keyless mode and a registry", () => {
    const config = parse({
      workspaceResourceId: WORKSPACE_ID,
      credentialMode: "federated",
      azureTenantId: "99999999-8888-7777-6666-555555555555",
      collectorRegistryResourceId: REGISTRY_ID,
      includeServiceHealth: "true",
      publisherId: "ABCDEFAB-0000-0000-0000-000000000001",
    });
    expect(config.workspace).toEqual({ kind: "existing", resourceId: WORKSPACE_ID });
    expect(config.credential).toEqual({ mode: "federated" });
    expect(config.azureTenantId).toBe("99999999-8888-7777-6666-555555555555");
    expect(config.collectorRegistryResourceId).toBe(REGISTRY_ID);
    expect(config.includeServiceHealth).toBe(true);
    expect(config.publisherId).toBe("abcdefab-0000-0000-0000-000000000001");
    expect(parse({ workspaceDailyCapGb: "5" }).workspace).toEqual({
      kind: "new",
      retentionInDays: 90,
      dailyQuotaGb: 5,
    });
  });

  it("accepts a certificate bundle stored as a secret", () => {
    const config = parse(
      { credentialMode: "certificate", clientCertificatePem: validBundle },
      { secretKeys: ["clientCertificatePem"] },
    );
    // Surrounding whitespace is trimmed like every other value; the PEM itself is untouched.
    expect(config.credential).toEqual({ mode: "certificate", certificatePem: validBundle.trim() });
  });

  it("reads the SIEM sinks in a fixed order, with their defaults and every optional setting", () => {
    const cert = certificateBlock(validBundle)!;
    const key = validBundle.slice(validBundle.indexOf("-----BEGIN PRIVATE KEY-----")).trim();
    const config = parse(
      {
        sinks: "splunk-hec, Syslog",
        syslogUrl: "tls://siem.example.com",
        syslogCaPem: cert,
        syslogClientCertPem: cert,
        syslogClientKeyPem: key,
        splunkHecUrl: "https://splunk.example.com:8088/services/collector",
        splunkHecToken: " 5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b ",
        splunkHecIndex: "o365",
        splunkHecAck: "true",
      },
      { secretKeys: ["syslogClientKeyPem", "splunkHecToken"] },
    );
    expect(config.sinks).toEqual({
      logsIngestion: false,
      syslog: {
        url: "tls://siem.example.com",
        format: "cef",
        appName: "auditbridge",
        maxMessageBytes: 8192,
        caPem: cert.trim(),
        clientCertPem: cert.trim(),
        clientKeyPem: key,
      },
      splunkHec: {
        url: "https://splunk.example.com:8088/services/collector",
        token: "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
        sourcetype: "o365:management:activity",
        ack: true,
        index: "o365",
      },
    });
    expect(Object.isFrozen(config.sinks?.syslog)).toBe(true);
    // Without logs-ingestion an existing workspace still takes the environment's logs.
    expect(
      parse({
        sinks: "syslog",
        syslogUrl: "udp://siem.example.com",
        workspaceResourceId: WORKSPACE_ID,
      }).workspace,
    ).toEqual({ kind: "existing", resourceId: WORKSPACE_ID });
  });

  it("reads collector none without an image, sinks or workspace, and keeps the defaults quiet", () => {
    const config = parse(
      {
        collector: "none",
        collectorImage: undefined,
        // Values equal to their defaults configure nothing and are accepted.
        sinks: "logs-ingestion",
        workspaceRetentionDays: "90",
        credentialMode: "certificate",
        clientCertificatePem: validBundle,
      },
      { secretKeys: ["clientCertificatePem"] },
    );
    expect(config.collector).toBe("none");
    expect(config).not.toHaveProperty("sinks");
    expect(config).not.toHaveProperty("collectorImage");
    expect(config.credential.mode).toBe("certificate");
  });

  it("treats empty values as unset, the way Pulumi.yaml's empty defaults arrive", () => {
    expect(
      parse({ azureTenantId: "", workspaceResourceId: "", namePrefix: "" }).workspace.kind,
    ).toBe("new");
  });
});

describe("parseStackConfig with bad config", () => {
  const fix = (key: string, example: string, secret = false) =>
    `set it with pulumi config set${secret ? " --secret" : ""} auditbridge:${key} ${example}`;
  const cases: [string, Record<string, string | undefined>, string, ParseOptions?][] = [
    [
      "a missing tenant id",
      { m365TenantId: undefined },
      `auditbridge:m365TenantId is required: ${fix("m365TenantId", "<Microsoft 365 tenant GUID>")}`,
    ],
    [
      "a tenant domain instead of its GUID",
      { m365TenantId: "contoso.onmicrosoft.com" },
      `auditbridge:m365TenantId must be a GUID like 72f988bf-86f1-41af-91ab-2d7cd011db47 (got contoso.onmicrosoft.com): ${fix("m365TenantId", "<Microsoft 365 tenant GUID>")}`,
    ],
    [
      "a malformed Azure tenant id",
      { azureTenantId: "1234" },
      "auditbridge:azureTenantId must be a GUID",
    ],
    [
      "an unknown cloud",
      { cloud: "usgov" },
      `auditbridge:cloud must be one of commercial, gcc, gcchigh, dod (got usgov): ${fix("cloud", "commercial")}`,
    ],
    [
      "a missing location",
      { location: undefined },
      "auditbridge:location is required: set it with",
    ],
    [
      "a display name as location",
      { location: "West Europe" },
      "auditbridge:location must be an Azure region name",
    ],
    [
      "a resource group with a slash",
      { resourceGroupName: "rg/x" },
      "auditbridge:resourceGroupName must be",
    ],
    [
      "a missing resource group",
      { resourceGroupName: undefined },
      "auditbridge:resourceGroupName is required",
    ],
    [
      "an upper-case prefix",
      { namePrefix: "Contoso" },
      "auditbridge:namePrefix must be 2 to 12 lowercase",
    ],
    ["a one-letter prefix", { namePrefix: "c" }, "auditbridge:namePrefix must be 2 to 12"],
    [
      "a 13-letter prefix",
      { namePrefix: "contosocontos" },
      "auditbridge:namePrefix must be 2 to 12",
    ],
    [
      "a stack name without letters and no prefix",
      {},
      "auditbridge:namePrefix is required because the stack name 2026 yields no usable prefix: set it with pulumi config set auditbridge:namePrefix contoso",
      { stack: "2026" },
    ],
    [
      "an unknown content type",
      { contentTypes: "Audit.Exchange,Audit.Teams" },
      "auditbridge:contentTypes must be a comma list of Audit.AzureActiveDirectory, Audit.Exchange, Audit.SharePoint, Audit.General, DLP.All (unknown: Audit.Teams) (got Audit.Exchange,Audit.Teams)",
    ],
    [
      "an empty content type list",
      { contentTypes: " , " },
      "auditbridge:contentTypes must be a comma list",
    ],
    [
      "a yes/no boolean",
      { includeServiceHealth: "yes" },
      "auditbridge:includeServiceHealth must be true or false (got yes)",
    ],
    [
      "a malformed publisher id",
      { publisherId: "contoso" },
      "auditbridge:publisherId must be a GUID",
    ],
    [
      "an unknown credential mode",
      { credentialMode: "password" },
      "auditbridge:credentialMode must be one of secret, certificate, federated (got password)",
    ],
    [
      "a 900-day secret lifetime",
      { secretLifetimeDays: "900" },
      `auditbridge:secretLifetimeDays must be a whole number between 1 and 730 (got 900): ${fix("secretLifetimeDays", "180")}`,
    ],
    [
      "a zero secret lifetime",
      { secretLifetimeDays: "0" },
      "auditbridge:secretLifetimeDays must be a whole number between 1 and 730 (got 0)",
    ],
    [
      "a fractional secret lifetime",
      { secretLifetimeDays: "12.5" },
      "auditbridge:secretLifetimeDays must be a whole number",
    ],
    [
      "a non-numeric secret lifetime",
      { secretLifetimeDays: "half a year" },
      "auditbridge:secretLifetimeDays must be a whole number",
    ],
    [
      "a rotation period without a week of overlap",
      { secretRotationDays: "175" },
      `auditbridge:secretRotationDays must be a whole number between 1 and 173 (the secret lifetime minus 7 days of overlap) (got 175): ${fix("secretRotationDays", "90")}`,
    ],
    [
      "a lifetime too short to rotate",
      { secretLifetimeDays: "7", secretRotationDays: "1" },
      "auditbridge:secretRotationDays needs a secret lifetime of at least 8 days (the lifetime is 7) (got 1)",
    ],
    [
      "a rotation anchor in the future",
      { secretRotationAnchor: "2027-01-01" },
      "auditbridge:secretRotationAnchor must not be in the future (got 2027-01-01)",
    ],
    [
      "a US-style rotation anchor",
      { secretRotationAnchor: "01/01/2026" },
      "auditbridge:secretRotationAnchor must be an ISO 8601 date like 2026-01-01",
    ],
    [
      "an impossible rotation anchor",
      { secretRotationAnchor: "2026-02-30" },
      "auditbridge:secretRotationAnchor must be an ISO 8601 date",
    ],
    [
      "certificate mode without a certificate",
      { credentialMode: "certificate" },
      `auditbridge:clientCertificatePem is required when credentialMode is certificate: ${fix("clientCertificatePem", '-- "$(cat collector-cert-and-key.pem)"', true)}`,
    ],
    [
      "a certificate without certificate mode",
      { clientCertificatePem: "PEM" },
      "auditbridge:clientCertificatePem is set but credentialMode is secret: remove it with pulumi config rm auditbridge:clientCertificatePem, or set auditbridge:credentialMode certificate",
      { secretKeys: ["clientCertificatePem"] },
    ],
    [
      "a workspace id of another resource type",
      { workspaceResourceId: REGISTRY_ID },
      "auditbridge:workspaceResourceId must be a resource id like /subscriptions/<guid>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>",
    ],
    [
      "a 7-day workspace retention",
      { workspaceRetentionDays: "7" },
      "auditbridge:workspaceRetentionDays must be a whole number between 30 and 730 (got 7)",
    ],
    [
      "a zero daily cap",
      { workspaceDailyCapGb: "0" },
      "auditbridge:workspaceDailyCapGb must be a whole number of GB from 1 to 100000, or -1 for no cap (got 0)",
    ],
    [
      "a table name without _CL",
      { tableName: "M365Audit" },
      "auditbridge:tableName must start with a letter, use only letters, digits and underscores, end in _CL",
    ],
    [
      "a missing image",
      { collectorImage: undefined },
      "auditbridge:collectorImage is required: set it with pulumi config set auditbridge:collectorImage myregistry.azurecr.io/auditbridge-collector:0.1.0",
    ],
    [
      "an image without a registry",
      { collectorImage: "auditbridge-collector:0.1.0" },
      "auditbridge:collectorImage must name its registry",
    ],
    [
      "an image without a tag",
      { collectorImage: "contosoacr.azurecr.io/auditbridge-collector" },
      "auditbridge:collectorImage must carry a tag or digest",
    ],
    [
      "an image tagged latest",
      { collectorImage: "contosoacr.azurecr.io/auditbridge-collector:latest" },
      "auditbridge:collectorImage must pin a version tag or digest, not :latest",
    ],
    [
      "a registry id of another resource type",
      { collectorRegistryResourceId: WORKSPACE_ID },
      "auditbridge:collectorRegistryResourceId must be a resource id like",
    ],
    [
      "a registry that is not the image's",
      {
        collectorRegistryResourceId: REGISTRY_ID,
        collectorImage: "fabrikamacr.azurecr.io/auditbridge-collector:0.1.0",
      },
      "auditbridge:collectorImage is pulled from fabrikamacr.azurecr.io but auditbridge:collectorRegistryResourceId names registry contosoacr: set it with pulumi config set auditbridge:collectorImage contosoacr.azurecr.io/auditbridge-collector:0.1.0",
    ],
    [
      "a recovery switch that is not a boolean",
      { keyVaultRecoverSoftDeleted: "yes" },
      `auditbridge:keyVaultRecoverSoftDeleted must be true or false (got yes): ${fix("keyVaultRecoverSoftDeleted", "true")}`,
    ],
    [
      "a data-deletion switch that is not a boolean",
      { deleteDataOnDestroy: "1" },
      `auditbridge:deleteDataOnDestroy must be true or false (got 1): ${fix("deleteDataOnDestroy", "false")}`,
    ],
    [
      "an audit logging switch that is not a boolean",
      { enableAuditLogging: "on" },
      `auditbridge:enableAuditLogging must be true or false (got on): ${fix("enableAuditLogging", "true")}`,
    ],
    [
      "a negative role assignment wait",
      { roleAssignmentWaitSeconds: "-5" },
      `auditbridge:roleAssignmentWaitSeconds must be a whole number between 0 and 1800 (got -5): ${fix("roleAssignmentWaitSeconds", "90")}`,
    ],
    [
      "a role assignment wait with a unit",
      { roleAssignmentWaitSeconds: "90s" },
      `auditbridge:roleAssignmentWaitSeconds must be a whole number between 0 and 1800 (got 90s): ${fix("roleAssignmentWaitSeconds", "90")}`,
    ],
    [
      "an unknown deployer principal type",
      { deployerPrincipalType: "Group" },
      `auditbridge:deployerPrincipalType must be User or ServicePrincipal: the kind of identity that runs pulumi up (got Group): ${fix("deployerPrincipalType", "ServicePrincipal")}`,
    ],
    [
      "an unknown Sentinel onboarding",
      { sentinelOnboarding: "maybe" },
      `auditbridge:sentinelOnboarding must be create (onboard the workspace to Microsoft Sentinel) or existing (it already is) (got maybe): ${fix("sentinelOnboarding", "existing")}`,
    ],
    [
      "an unknown table plan",
      { tablePlan: "Auxiliary" },
      `auditbridge:tablePlan must be Analytics (full queries, Microsoft Sentinel) or Basic (cheaper ingestion, single-table queries, no Sentinel content) (got Auxiliary): ${fix("tablePlan", "Basic")}`,
    ],
    [
      "Sentinel over a Basic table",
      { tablePlan: "Basic", sentinel: "true" },
      "auditbridge:sentinel needs auditbridge:tablePlan Analytics (a Basic table cannot feed Sentinel analytics rules, hunting queries or functions): set it with pulumi config set auditbridge:tablePlan Analytics, or pulumi config set auditbridge:sentinel false",
    ],
    [
      "GCC High against the public Azure cloud",
      { cloud: "gcchigh" },
      "auditbridge:cloud gcchigh deploys to Azure Government but azure-native:environment is public: set it with pulumi config set azure-native:environment usgovernment",
    ],
    [
      "DoD against the China cloud",
      { cloud: "dod" },
      "auditbridge:cloud dod deploys to Azure Government but azure-native:environment is china: set it with pulumi config set azure-native:environment usgovernment",
      { azureNative: { environment: "china" } },
    ],
    [
      "collector none with keyless credentials",
      { collector: "none", collectorImage: undefined, credentialMode: "federated" },
      "auditbridge:credentialMode federated needs the bundled collector's managed identity but auditbridge:collector is none: set it with pulumi config set auditbridge:credentialMode secret (or certificate)",
    ],
    [
      "collector none with a collector image",
      { collector: "none" },
      "auditbridge:collectorImage configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:collectorImage",
    ],
    [
      "collector none with a scheduled collector",
      { collector: "none", collectorImage: undefined, collectorMode: "scheduled" },
      "auditbridge:collectorMode configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:collectorMode",
    ],
    [
      "collector none with a schedule",
      { collector: "none", collectorImage: undefined, collectorSchedule: "0 * * * *" },
      "auditbridge:collectorSchedule configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:collectorSchedule",
    ],
    [
      "collector none with sinks",
      { collector: "none", collectorImage: undefined, sinks: "splunk-hec" },
      "auditbridge:sinks configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:sinks",
    ],
    [
      "collector none with a syslog receiver",
      { collector: "none", collectorImage: undefined, syslogUrl: "tls://siem.example.com" },
      "auditbridge:syslogUrl configures the bundled collector but auditbridge:collector is none",
    ],
    [
      "an unknown collector",
      { collector: "external" },
      "auditbridge:collector must be bundled (AuditBridge's collector in Azure Container Apps) or none (bring your own SIEM: only the app, its credential and a Key Vault) (got external): set it with pulumi config set auditbridge:collector none",
    ],
    [
      "an unknown sink",
      { sinks: "logs-ingestion,qradar" },
      "auditbridge:sinks must be a comma list of logs-ingestion, syslog, splunk-hec (unknown: qradar) (got logs-ingestion,qradar): set it with pulumi config set auditbridge:sinks logs-ingestion,splunk-hec",
    ],
    ["an empty sink list", { sinks: " , " }, "auditbridge:sinks must be a comma list of"],
    [
      "the syslog sink without a receiver",
      { sinks: "syslog" },
      "auditbridge:syslogUrl is required when sinks includes syslog: set it with pulumi config set auditbridge:syslogUrl tls://siem.example.com:6514",
    ],
    [
      "a syslog receiver with an http URL",
      { sinks: "syslog", syslogUrl: "https://siem.example.com" },
      'auditbridge:syslogUrl scheme "https" is not supported; use tcp, tls or udp (got https://siem.example.com)',
    ],
    [
      "a syslog receiver without the syslog sink",
      { syslogUrl: "tls://siem.example.com" },
      "auditbridge:syslogUrl is set but auditbridge:sinks does not include syslog: remove it with pulumi config rm auditbridge:syslogUrl, or add syslog to auditbridge:sinks",
    ],
    [
      "an unknown syslog format",
      { sinks: "syslog", syslogUrl: "tls://siem.example.com", syslogFormat: "gelf" },
      'auditbridge:syslogFormat "gelf" is not one of cef, leef, json (got gelf)',
    ],
    [
      "a syslog message limit over one UDP datagram",
      { sinks: "syslog", syslogUrl: "udp://siem.example.com", syslogMaxMessageBytes: "100000" },
      "auditbridge:syslogMaxMessageBytes must fit the udp transport: 100000 is not between 1024 and 65507 (one UDP datagram) (got 100000)",
    ],
    [
      "a syslog CA that is not PEM",
      { sinks: "syslog", syslogUrl: "tcp://siem.example.com:514", syslogCaPem: "CA" },
      "auditbridge:syslogCaPem must be PEM text holding at least one -----BEGIN CERTIFICATE----- block (got CA)",
    ],
    [
      "a Splunk URL without the splunk-hec sink",
      { splunkHecUrl: "https://splunk.example.com:8088" },
      "auditbridge:splunkHecUrl is set but auditbridge:sinks does not include splunk-hec: remove it with pulumi config rm auditbridge:splunkHecUrl, or add splunk-hec to auditbridge:sinks",
    ],
    [
      "the splunk-hec sink without a URL",
      { sinks: "splunk-hec" },
      "auditbridge:splunkHecUrl is required when sinks includes splunk-hec: set it with pulumi config set auditbridge:splunkHecUrl https://splunk.example.com:8088",
    ],
    [
      "the splunk-hec sink without a token",
      { sinks: "splunk-hec", splunkHecUrl: "https://splunk.example.com:8088" },
      "auditbridge:splunkHecToken is required when sinks includes splunk-hec: set it with pulumi config set --secret auditbridge:splunkHecToken <HEC token GUID>",
    ],
    [
      "a HEC token stored in plain text",
      {
        sinks: "splunk-hec",
        splunkHecUrl: "https://splunk.example.com:8088",
        splunkHecToken: "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
      },
      "auditbridge:splunkHecToken is a credential and must be stored encrypted: set it with pulumi config set --secret auditbridge:splunkHecToken <HEC token GUID>",
    ],
    [
      "a HEC token with a space",
      {
        sinks: "splunk-hec",
        splunkHecUrl: "https://splunk.example.com:8088",
        splunkHecToken: "Splunk 5e1f2a3b",
      },
      "auditbridge:splunkHecToken is invalid: the token contains spaces or control characters: set it with pulumi config set --secret",
      { secretKeys: ["splunkHecToken"] },
    ],
    [
      "a Splunk index with capitals",
      { sinks: "logs-ingestion,splunk-hec", splunkHecIndex: "O365" },
      'auditbridge:splunkHecIndex "O365" is not an index name (lower-case letters, digits, _ and -) (got O365)',
    ],
    [
      "a Splunk URL with credentials",
      { sinks: "splunk-hec", splunkHecUrl: "https://admin:pw@splunk.example.com:8088" },
      "auditbridge:splunkHecUrl the URL must not carry credentials; set SPLUNK_HEC_TOKEN",
    ],
    [
      "Sentinel without the logs-ingestion sink",
      {
        sinks: "splunk-hec",
        splunkHecUrl: "https://splunk.example.com:8088",
        splunkHecToken: "5e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b",
        sentinel: "true",
      },
      "auditbridge:sentinel applies to the audit workspace, which only the logs-ingestion sink creates: remove it with pulumi config rm auditbridge:sentinel, or add logs-ingestion to auditbridge:sinks",
      { secretKeys: ["splunkHecToken"] },
    ],
    [
      "a workspace retention without the logs-ingestion sink",
      {
        sinks: "syslog",
        syslogUrl: "tls://siem.example.com",
        workspaceRetentionDays: "365",
      },
      "auditbridge:workspaceRetentionDays applies to the audit workspace, which only the logs-ingestion sink creates",
    ],
    [
      "an unknown collector mode",
      { collectorMode: "cron" },
      `auditbridge:collectorMode must be always-on or scheduled (a Container App, or a Container Apps Job on collectorSchedule) (got cron): ${fix("collectorMode", "scheduled")}`,
    ],
    [
      "a schedule without five fields",
      { collectorMode: "scheduled", collectorSchedule: "*/5 * * *" },
      `auditbridge:collectorSchedule must be a cron expression with 5 fields (minute hour day-of-month month day-of-week, in UTC), e.g. */5 * * * * (got 4 fields) (got */5 * * *): ${fix("collectorSchedule", '"*/5 * * * *"')}`,
    ],
    [
      "a schedule field out of range",
      { collectorMode: "scheduled", collectorSchedule: "0 25 * * *" },
      'auditbridge:collectorSchedule field 2 (hour) has "25", outside 0-23 (got 0 25 * * *)',
    ],
    [
      "a schedule running every minute",
      { collectorMode: "scheduled", collectorSchedule: "* * * * *" },
      "auditbridge:collectorSchedule runs 1 minute apart at times; runs must be at least 5 minutes apart (for fresher data use collectorMode always-on) (got * * * * *)",
    ],
    [
      "a weekly schedule",
      { collectorMode: "scheduled", collectorSchedule: "0 0 * * 0" },
      "auditbridge:collectorSchedule leaves 7 days between runs; at most 24 hours",
    ],
    [
      "a schedule without the scheduled mode",
      { collectorSchedule: "*/10 * * * *" },
      "auditbridge:collectorSchedule is set but collectorMode is always-on: remove it with pulumi config rm auditbridge:collectorSchedule, or set auditbridge:collectorMode scheduled",
    ],
    [
      "a misspelt key",
      { secretLifetimeDay: "180" },
      "auditbridge:secretLifetimeDay is not an AuditBridge setting (did you mean auditbridge:secretLifetimeDays?): remove it with pulumi config rm auditbridge:secretLifetimeDay",
    ],
  ];

  it.each(cases)(
    "rejects %s with one line naming the key and the fix",
    (_what, overrides, expected, options) => {
      const error = errorOf(() => parse(overrides, options));
      expect(error.message.startsWith(expected)).toBe(true);
      expect(error.message).not.toContain("\n");
      expect(error.message).toMatch(
        /^auditbridge:\w+ .*: (set it with|remove it with) pulumi config/,
      );
    },
  );

  it("rejects the syslog client files with a plain-TCP receiver, a certificate without its key, and a key in plain text, without echoing PEM text", () => {
    const cert = certificateBlock(validBundle)!;
    const key = validBundle.slice(validBundle.indexOf("-----BEGIN PRIVATE KEY-----"));
    const syslog = { sinks: "syslog", syslogUrl: "tls://siem.example.com" };
    const cases: [Record<string, string>, string, string[]][] = [
      [
        { ...syslog, syslogUrl: "tcp://siem.example.com:514", syslogCaPem: cert },
        "auditbridge:syslogCaPem applies to a tls:// syslogUrl only (got tcp://): remove it with pulumi config rm auditbridge:syslogCaPem, or set auditbridge:syslogUrl to tls://host:port",
        [],
      ],
      [
        { ...syslog, syslogClientCertPem: cert },
        'auditbridge:syslogClientKeyPem is required too: the client certificate and its key go together: set it with pulumi config set --secret auditbridge:syslogClientKeyPem -- "$(cat client-key.pem)"',
        [],
      ],
      [
        { ...syslog, syslogClientCertPem: cert, syslogClientKeyPem: key },
        'auditbridge:syslogClientKeyPem holds a private key and must be stored encrypted: set it with pulumi config set --secret auditbridge:syslogClientKeyPem -- "$(cat client-key.pem)"',
        [],
      ],
      [
        { ...syslog, syslogClientCertPem: validBundle, syslogClientKeyPem: key },
        'auditbridge:syslogClientCertPem holds a private key: give the certificate here and the key in its own secret setting: set it with pulumi config set auditbridge:syslogClientCertPem -- "$(cat client-cert.pem)"',
        ["syslogClientKeyPem"],
      ],
      [
        { ...syslog, syslogClientCertPem: cert, syslogClientKeyPem: cert },
        'auditbridge:syslogClientKeyPem must be PEM text holding a -----BEGIN PRIVATE KEY----- block: set it with pulumi config set --secret auditbridge:syslogClientKeyPem -- "$(cat client-key.pem)"',
        ["syslogClientKeyPem"],
      ],
    ];
    for (const [overrides, expected, secretKeys] of cases) {
      const error = errorOf(() => parse(overrides, { secretKeys }));
      expect(error.message).toBe(expected);
      expect(error.message).not.toContain("MII");
    }
  });

  it("rejects a malformed azure-native subscription in one line naming that key", () => {
    expect(errorOf(() => parse({}, { azureNative: { subscriptionId: "prod" } })).message).toBe(
      "azure-native:subscriptionId must be a subscription GUID (got prod): set it with pulumi config set azure-native:subscriptionId <subscription GUID>",
    );
  });

  it("rejects a certificate stored in plain text without echoing it", () => {
    const error = errorOf(() =>
      parse({ credentialMode: "certificate", clientCertificatePem: validBundle }),
    );
    expect(error.message).toBe(
      `auditbridge:clientCertificatePem holds a private key and must be stored encrypted: set it with pulumi config set --secret auditbridge:clientCertificatePem -- "$(cat collector-cert-and-key.pem)"`,
    );
  });

  it("rejects a bundle without a private key, and an expired certificate, without echoing either", () => {
    const secretKeys = ["clientCertificatePem"];
    const certOnly = certificateBlock(validBundle)!;
    const noKey = errorOf(() =>
      parse({ credentialMode: "certificate", clientCertificatePem: certOnly }, { secretKeys }),
    );
    expect(noKey.message).toMatch(
      /^auditbridge:clientCertificatePem must be a PEM bundle holding the certificate and its private key: set it with pulumi config set --secret/,
    );
    expect(noKey.message).not.toContain("BEGIN");
    const expired = errorOf(() =>
      parse({ credentialMode: "certificate", clientCertificatePem: expiredBundle }, { secretKeys }),
    );
    expect(expired.message).toMatch(
      /^auditbridge:clientCertificatePem holds a certificate that has already expired: /,
    );
    expect(expired.message).not.toContain("BEGIN");
  });
});

describe("secretSchedule", () => {
  const day = 86_400_000;
  const anchor = Date.parse("2026-01-01T00:00:00Z");
  const schedule = (nowMs: number) =>
    secretSchedule({ anchor: "2026-01-01", rotationDays: 90, lifetimeDays: 180, nowMs });

  it.each([
    ["the anchor itself", anchor, 0, "2026-06-30T00:00:00Z", undefined],
    [
      "the last second of the first period",
      anchor + 90 * day - 1000,
      0,
      "2026-06-30T00:00:00Z",
      undefined,
    ],
    [
      "the first second of the second period",
      anchor + 90 * day,
      1,
      "2026-09-28T00:00:00Z",
      "2026-06-30T00:00:00Z",
    ],
    ["late November 2026", NOW, 3, "2027-03-27T00:00:00Z", "2026-12-27T00:00:00Z"],
  ])("at %s picks period %#", (_what, nowMs, slot, endDate, previousEnd) => {
    const result = schedule(nowMs);
    expect(result.current).toEqual({ slot, endDate });
    expect(result.previous?.endDate).toBe(previousEnd);
  });

  it("gives the same end date for every clock reading inside one period", () => {
    const ends = new Set<string>();
    for (let t = anchor + 270 * day; t < anchor + 360 * day; t += 7 * 3_600_000) {
      ends.add(schedule(t).current.endDate);
    }
    expect([...ends]).toEqual(["2027-03-27T00:00:00Z"]);
  });

  it("keeps the previous password valid for lifetime minus rotation after the next is created", () => {
    const at = anchor + 180 * day;
    const { current, previous } = schedule(at);
    expect(Date.parse(previous!.endDate) - at).toBe(90 * day);
    expect(Date.parse(current.endDate) - at).toBe(180 * day);
  });

  describe("never declares a password ending within the safety margin", () => {
    const dates = [
      "2026-01-01T00:00:00Z",
      "2026-01-01T00:00:01Z",
      "2026-02-28T23:59:59Z",
      "2026-03-31T12:00:00Z",
      "2026-06-23T00:00:00Z",
      "2026-06-29T23:59:59Z",
      "2026-09-21T06:00:00Z",
      "2026-12-31T23:59:59Z",
      "2027-02-28T12:00:00Z",
      "2028-02-29T12:00:00Z",
      "2030-07-01T00:00:00Z",
    ];
    // (lifetime, rotation): defaults, the tightest allowed overlap, short and long extremes.
    const pairs: [number, number][] = [
      [180, 90],
      [180, 173],
      [100, 93],
      [8, 1],
      [30, 23],
      [365, 180],
      [730, 723],
      [730, 1],
    ];
    const grid = dates.flatMap((date) =>
      pairs.map(([lifetime, rotation]) => [date, lifetime, rotation] as const),
    );
    it.each(grid)("at %s with lifetime %i and rotation %i", (date, lifetimeDays, rotationDays) => {
      const nowMs = Date.parse(date);
      const result = secretSchedule({ anchor: "2026-01-01", rotationDays, lifetimeDays, nowMs });
      const margin = MIN_PASSWORD_VALIDITY_DAYS * day;
      for (const slot of [result.current, result.previous]) {
        if (slot) expect(Date.parse(slot.endDate) - nowMs).toBeGreaterThanOrEqual(margin);
      }
      // The previous password is kept exactly when it still has the margin left.
      const n = Math.floor((nowMs - anchor) / (rotationDays * day));
      const previousEnd = anchor + (n - 1) * rotationDays * day + lifetimeDays * day;
      expect(result.previous !== undefined).toBe(n > 0 && previousEnd - nowMs >= margin);
      expect(result.current.slot).toBe(n);
    });
  });

  it("drops the previous password on a first deploy late in a period instead of creating it expired", () => {
    // lifetime 100, rotation 93: 10 days before period 2 ends, period 1's password ended 76 days ago.
    const at = anchor + 176 * day;
    const result = secretSchedule({
      anchor: "2026-01-01",
      rotationDays: 93,
      lifetimeDays: 100,
      nowMs: at,
    });
    expect(result.current.slot).toBe(1);
    expect(result.previous).toBeUndefined();
  });

  it("refuses a schedule whose current password would end within the margin", () => {
    expect(() =>
      secretSchedule({
        anchor: "2026-01-01",
        rotationDays: 30,
        lifetimeDays: 30,
        nowMs: anchor + 25 * day,
      }),
    ).toThrow(/less than 7 days from now/);
  });

  it("refuses an anchor in the future", () => {
    expect(() => schedule(anchor - 1)).toThrow(
      "secret rotation anchor 2026-01-01 is in the future",
    );
  });
});

describe("deterministic names", () => {
  it("implements RFC 4122 version 5 GUIDs", () => {
    // Python's documented example: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
    expect(uuidV5("python.org", "6ba7b810-9dad-11d1-80b4-00c04fd430c8")).toBe(
      "886313e1-3b8a-5372-9b90-0c9aee199e5d",
    );
  });

  it("names a role assignment the same way every time, and differently per principal", () => {
    const scope =
      "/subscriptions/x/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/dcr";
    const a = roleAssignmentName(scope, "3913510d-42f4-4e42-8a64-420c390055eb", "p1");
    expect(
      roleAssignmentName(scope.toUpperCase(), "3913510d-42f4-4e42-8a64-420c390055eb", "P1"),
    ).toBe(a);
    expect(roleAssignmentName(scope, "3913510d-42f4-4e42-8a64-420c390055eb", "p2")).not.toBe(a);
  });

  it("keeps Key Vault and storage account names within Azure's 24 characters", () => {
    const names = resourceNames("contosoeurop", uniqueSuffix("t", "rg", "contosoeurop"));
    expect(names.keyVault).toMatch(/^kv-contosoeurop-[0-9a-f]{6}$/);
    expect(names.keyVault.length).toBeLessThanOrEqual(24);
    expect(names.storageAccount).toMatch(/^stcontosoeurop[0-9a-f]{6}$/);
    expect(names.storageAccount.length).toBeLessThanOrEqual(24);
  });

  it.each([
    ["contoso", "contoso"],
    ["Contoso-Prod", "contosoprod"],
    ["2026-fabrikam", "fabrikam"],
    ["a", undefined],
    ["---", undefined],
  ])("derives a prefix from stack %s", (stack, expected) => {
    expect(namePrefixFromStack(stack)).toBe(expected);
  });
});

describe("Management API roles", () => {
  it.each([
    [false, false, ["ActivityFeed.Read"]],
    [true, false, ["ActivityFeed.Read", "ActivityFeed.ReadDlp"]],
    [false, true, ["ActivityFeed.Read", "ServiceHealth.Read"]],
  ])("with DLP %s and service health %s asks for %j", (collectDlp, includeServiceHealth, roles) => {
    expect(managementRolesFor({ collectDlp, includeServiceHealth })).toEqual(roles);
  });

  it("names a role the API does not expose instead of granting nothing", () => {
    expect(() =>
      resolveAppRoleIds(
        { "ActivityFeed.Read": "1" },
        ["ActivityFeed.ReadDlp"],
        "Office 365 Management APIs",
      ),
    ).toThrow(
      "Office 365 Management APIs exposes no app role named ActivityFeed.ReadDlp (it has: ActivityFeed.Read): check the tenant's Office 365 Management APIs service principal",
    );
  });

  it("builds a role definition id in the scope's own subscription", () => {
    expect(roleDefinitionIdFor("/subscriptions/abc/resourceGroups/rg", "r1")).toBe(
      "/subscriptions/abc/providers/Microsoft.Authorization/roleDefinitions/r1",
    );
    expect(() => roleDefinitionIdFor("/providers/x", "r1")).toThrow(
      "must start with /subscriptions/",
    );
  });
});

describe("small validators", () => {
  it.each([
    ["contosoacr.azurecr.io/auditbridge-collector:0.1.0", undefined],
    ["ghcr.io/contoso/auditbridge-collector@sha256:abc", undefined],
    ["localhost:5000/auditbridge-collector:dev", undefined],
    ["auditbridge-collector:0.1.0", "must name its registry"],
    ["contosoacr.azurecr.io/auditbridge-collector", "must carry a tag or digest"],
    ["contosoacr.azurecr.io/x:latest", "must pin a version"],
    ["contosoacr.azurecr.io/x :1", "without spaces"],
  ])("image %s", (image, problem) => {
    const found = imageReferenceProblem(image);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it("splits a resource id and refuses a malformed one", () => {
    expect(parseResourceId(WORKSPACE_ID)).toEqual({
      subscriptionId: "00000000-0000-0000-0000-0000000000aa",
      resourceGroupName: "rg-logs",
      provider: "Microsoft.OperationalInsights",
      resourceType: "workspaces",
      name: "log-shared",
    });
    expect(
      parseResourceId("/subscriptions/not-a-guid/resourceGroups/rg/providers/a/b/c"),
    ).toBeUndefined();
  });

  it("parses content types and names the unknown ones", () => {
    expect(parseContentTypes("DLP.All")).toEqual({ ok: true, value: ["DLP.All"] });
    expect(parseContentTypes("Audit.Foo")).toMatchObject({ ok: false });
  });

  it("suggests the nearest known name only when it is close", () => {
    expect(closestName("tablename", ["tableName", "location"])).toBe("tableName");
    expect(closestName("somethingElse", ["tableName", "location"])).toBeUndefined();
  });

  it("projects every stream column in the transformation", () => {
    expect(projectionKql()).toBe(
      `source | project ${streamDeclarationColumns()
        .map((c) => c.name)
        .join(", ")}`,
    );
    expect(streamDeclarationColumns().find((c) => c.name === "TimeGenerated")?.type).toBe(
      "datetime",
    );
  });
});

describe("the YAML subset reader used to load Pulumi.yaml and stack files", () => {
  it("reads nested mappings, quoted scalars and comments", () => {
    expect(
      parseYamlSubset(
        [
          "# comment",
          "name: auditbridge",
          "config:",
          '  a:b: "x # not a comment"',
          "  c: 'it''s' # comment",
          "  d:",
          "    e: 1",
          "  f:",
          "g: -1",
        ].join("\n"),
      ),
    ).toEqual({
      name: "auditbridge",
      config: { "a:b": "x # not a comment", c: "it's", d: { e: "1" }, f: "" },
      g: "-1",
    });
  });

  it.each([
    ["a list", "a:\n  - x"],
    ["a flow mapping", "a: {b: 1}"],
    ["a block scalar", "a: |\n  text"],
    ["a duplicate key", "a: 1\na: 2"],
    ["bad indentation", "a:\n    b: 1\n  c: 2"],
  ])("refuses %s instead of misreading it", (_what, text) => {
    expect(() => parseYamlSubset(text)).toThrow();
  });
});
