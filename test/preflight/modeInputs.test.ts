import { describe, expect, it } from "vitest";
import { COLLECTOR_KINDS } from "../../components/tenantAuditPipeline";
import { APP_CREDENTIAL_KINDS } from "../../domain/collectorEnv";
import { KNOWN_PROVIDERS } from "../../emulator/src/preflightKnobs";
import { judgeContainerAppsLocation } from "../../scripts/preflight/checks/providers";
import {
  isPreflightInputError,
  type PreflightConfig,
  resolvePreflightConfig,
  type StackSettings,
  stackSettingsFromJson,
} from "../../scripts/preflight/inputs";
import { DEPLOYMENT_ACTIONS } from "../../scripts/preflight/permissions";
import {
  ALL_PROVIDERS,
  deploymentActions,
  notDeployed,
  PREFLIGHT_COLLECTOR_KINDS,
  PREFLIGHT_COLLECTOR_MODES,
  requiredProviders,
  workspaceContentActions,
} from "../../scripts/preflight/scope";
import { COLLECTOR_MODES, CONFIG_KEYS, CREDENTIAL_MODES } from "../../stacks/config";

const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const SUBSCRIPTION = "11111111-2222-4333-8444-555555555555";
const BASE = [
  "--tenant-id",
  TENANT,
  "--subscription-id",
  SUBSCRIPTION,
  "--resource-group",
  "rg-auditbridge",
  "--location",
  "westeurope",
  "--name-prefix",
  "contoso",
];
const WORKSPACE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w`;
const REGISTRY = `/subscriptions/${SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.ContainerRegistry/registries/r`;

async function config(argv: string[], settings: StackSettings = {}): Promise<PreflightConfig> {
  const result = await resolvePreflightConfig(
    argv,
    {},
    { stackReader: { config: async () => settings } },
  );
  if (result === "help") throw new Error("help");
  return result;
}

async function inputError(argv: string[], settings: StackSettings = {}): Promise<string> {
  try {
    await config(argv, settings);
  } catch (error) {
    if (isPreflightInputError(error)) return error.message;
    throw error;
  }
  throw new Error("expected an input error");
}

describe("deployment mode inputs", () => {
  it("names the modes exactly as the stack's config does", () => {
    expect([...PREFLIGHT_COLLECTOR_KINDS]).toEqual([...COLLECTOR_KINDS]);
    expect([...PREFLIGHT_COLLECTOR_MODES]).toEqual([...COLLECTOR_MODES]);
    // Preflight takes the collector's credential kinds (domain/collectorEnv.ts) as its modes.
    expect([...APP_CREDENTIAL_KINDS]).toEqual([...CREDENTIAL_MODES]);
    expect(CONFIG_KEYS.credentialMode.default).toBe("secret");
    expect(CONFIG_KEYS.sentinelOnboarding.default).toBe("create");
    expect(CONFIG_KEYS.collector.default).toBe("bundled");
    expect(CONFIG_KEYS.collectorMode.default).toBe("always-on");
    expect(CONFIG_KEYS.sinks.default).toBe("logs-ingestion");
    // The emulator knows every namespace preflight may read.
    for (const ns of ALL_PROVIDERS) expect(KNOWN_PROVIDERS).toContain(ns);
  });

  it("defaults to the bundled, always-on collector with the logs-ingestion sink", async () => {
    expect(await config(BASE)).toMatchObject({
      collector: "bundled",
      collectorMode: "always-on",
      sinks: ["logs-ingestion"],
      tablePlan: "Analytics",
    });
  });

  it("reads the modes from the stack's config, and lets flags win", async () => {
    const settings = {
      collector: "bundled",
      collectorMode: "scheduled",
      sinks: "syslog",
      tablePlan: "Analytics",
    };
    expect(await config([...BASE, "--stack", "contoso"], settings)).toMatchObject({
      collectorMode: "scheduled",
      sinks: ["syslog"],
    });
    expect(
      await config(
        [...BASE, "--stack", "contoso", "--sinks", " Splunk-HEC , logs-ingestion,syslog,syslog"],
        settings,
      ),
    ).toMatchObject({ sinks: ["logs-ingestion", "syslog", "splunk-hec"] });
    expect(
      await config([...BASE, "--stack", "contoso", "--collector", "none"], {
        ...settings,
        collectorMode: "always-on",
        sinks: "logs-ingestion",
      }),
    ).toMatchObject({ collector: "none", collectorMode: null, sinks: [] });
  });

  it("keeps the new keys from pulumi config --json", () => {
    expect(
      stackSettingsFromJson(
        JSON.stringify({
          "auditbridge:collector": { value: "none", secret: false },
          "auditbridge:collectorMode": { value: "scheduled", secret: false },
          "auditbridge:sinks": { value: "syslog,splunk-hec", secret: false },
          "auditbridge:tablePlan": { value: "Basic", secret: false },
          "auditbridge:splunkHecToken": { value: "[secret]", secret: true },
        }),
      ),
    ).toEqual({
      collector: "none",
      collectorMode: "scheduled",
      sinks: "syslog,splunk-hec",
      tablePlan: "Basic",
    });
  });

  it("answers bad or contradictory mode input with one line naming the flag or key and the fix", async () => {
    const stack = [...BASE, "--stack", "contoso"];
    const cases: [string[], StackSettings, string][] = [
      [
        [...BASE, "--collector", "external"],
        {},
        "--collector: must be bundled (AuditBridge's collector in Azure Container Apps) or none (bring your own SIEM) (got external): pass --collector none",
      ],
      [
        stack,
        { collector: "None" },
        "auditbridge:collector (stack config): must be bundled (AuditBridge's collector in Azure Container Apps) or none (bring your own SIEM) (got None): set it with pulumi config set auditbridge:collector none --stack contoso",
      ],
      [
        [...BASE, "--sinks", "syslog,kafka"],
        {},
        "--sinks: must be a comma list of logs-ingestion, syslog, splunk-hec (unknown: kafka): pass --sinks logs-ingestion,syslog",
      ],
      [
        [...BASE, "--sinks", " , "],
        {},
        "--sinks: must be a comma list of logs-ingestion, syslog, splunk-hec: pass --sinks logs-ingestion,syslog",
      ],
      [
        stack,
        { sinks: "sentinel" },
        "auditbridge:sinks (stack config): must be a comma list of logs-ingestion, syslog, splunk-hec (unknown: sentinel): set it with pulumi config set auditbridge:sinks logs-ingestion,syslog --stack contoso",
      ],
      [
        [...BASE, "--collector-mode", "cron"],
        {},
        "--collector-mode: must be always-on or scheduled (got cron): pass --collector-mode scheduled",
      ],
      [
        stack,
        { tablePlan: "Auxiliary" },
        "auditbridge:tablePlan (stack config): must be Analytics or Basic (got Auxiliary): set it with pulumi config set auditbridge:tablePlan Basic --stack contoso",
      ],
      [
        [...BASE, "--collector", "none", "--sinks", "syslog"],
        {},
        "--sinks configures the bundled collector but --collector is none: drop --sinks, or pass --collector bundled",
      ],
      [
        stack,
        { collector: "none", collectorMode: "scheduled" },
        "auditbridge:collectorMode configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:collectorMode --stack contoso",
      ],
      [
        [...BASE, "--collector", "none", "--workspace-resource-id", WORKSPACE],
        {},
        "--workspace-resource-id configures the bundled collector but --collector is none: drop --workspace-resource-id, or pass --collector bundled",
      ],
      [
        stack,
        { collector: "none", collectorRegistryResourceId: REGISTRY },
        "auditbridge:collectorRegistryResourceId configures the bundled collector but auditbridge:collector is none: remove it with pulumi config rm auditbridge:collectorRegistryResourceId --stack contoso",
      ],
      [
        [...stack, "--collector", "none"],
        { tablePlan: "Basic" },
        "auditbridge:tablePlan configures the bundled collector but --collector is none: remove it with pulumi config rm auditbridge:tablePlan --stack contoso",
      ],
      [
        [...stack, "--sinks", "syslog"],
        { tablePlan: "Basic" },
        "auditbridge:tablePlan applies to the audit table, which only the logs-ingestion sink creates: remove it with pulumi config rm auditbridge:tablePlan --stack contoso, or add logs-ingestion to --sinks",
      ],
    ];
    cases.push(
      [
        [...BASE, "--credential-mode", "keyless"],
        {},
        "--credential-mode: must be secret, certificate, federated (got keyless): pass --credential-mode secret",
      ],
      [
        stack,
        { collector: "none", credentialMode: "federated" },
        "auditbridge:credentialMode federated needs the bundled collector's managed identity but auditbridge:collector is none: set it with pulumi config set auditbridge:credentialMode secret --stack contoso (or certificate)",
      ],
    );
    for (const [argv, settings, expected] of cases) {
      const message = await inputError(argv, settings);
      expect(message, `${argv.join(" ")} ${JSON.stringify(settings)}`).toBe(expected);
      expect(message).not.toContain("\n");
    }
  });
});

describe("which checks, providers and actions apply per mode", () => {
  const shape = (overrides: Partial<Parameters<typeof requiredProviders>[0]>) => ({
    collector: "bundled" as const,
    collectorMode: "always-on" as const,
    sinks: ["logs-ingestion" as const],
    workspaceResourceId: null,
    keyVault: true,
    tablePlan: "Analytics" as const,
    sentinel: "off" as const,
    ...overrides,
  });

  it("maps each mode to its providers and writes", () => {
    expect(requiredProviders(shape({ sentinel: "create" }))).toEqual([...ALL_PROVIDERS]);
    expect(requiredProviders(shape({}))).toEqual(
      ALL_PROVIDERS.filter((ns) => ns !== "Microsoft.SecurityInsights"),
    );
    expect(deploymentActions(shape({}))).toEqual([...DEPLOYMENT_ACTIONS]);
    const none = shape({ collector: "none", collectorMode: null, sinks: [] });
    expect(requiredProviders(none)).toEqual(["Microsoft.KeyVault"]);
    expect(deploymentActions(none)).toEqual([
      "Microsoft.KeyVault/vaults/write",
      "Microsoft.KeyVault/vaults/secrets/write",
      "Microsoft.Authorization/roleAssignments/write",
    ]);
    expect(Object.keys(notDeployed(none))).toEqual([
      "container-apps-location",
      "workspace",
      "registry",
    ]);
    const syslog = shape({ sinks: ["syslog"] });
    expect(requiredProviders(syslog)).toEqual([
      "Microsoft.App",
      "Microsoft.KeyVault",
      "Microsoft.ManagedIdentity",
      "Microsoft.Storage",
    ]);
    expect(deploymentActions(syslog).filter((a) => /Insights|OperationalInsights/.test(a))).toEqual(
      [],
    );
    expect(Object.keys(notDeployed(syslog))).toEqual(["workspace"]);
    const syslogWithLogs = shape({ sinks: ["syslog"], workspaceResourceId: WORKSPACE });
    expect(requiredProviders(syslogWithLogs)).toContain("Microsoft.Insights");
    expect(requiredProviders(syslogWithLogs)).not.toContain("Microsoft.OperationalInsights");
    expect(deploymentActions(syslogWithLogs)).toContain(
      "Microsoft.Insights/diagnosticSettings/write",
    );
    expect(notDeployed(syslogWithLogs)).toEqual({});
    const scheduled = deploymentActions(shape({ collectorMode: "scheduled" }));
    expect(scheduled).toContain("Microsoft.App/jobs/write");
    expect(scheduled).not.toContain("Microsoft.App/containerApps/write");
    // Keyless without sink secrets: no vault, so no vault name, provider or writes to check.
    const keyless = shape({ keyVault: false });
    expect(requiredProviders(keyless)).not.toContain("Microsoft.KeyVault");
    expect(deploymentActions(keyless).filter((a) => a.startsWith("Microsoft.KeyVault"))).toEqual(
      [],
    );
    expect(deploymentActions(keyless)).toContain("Microsoft.Authorization/roleAssignments/write");
    expect(notDeployed(keyless)).toEqual({
      "key-vault-name": "credentialMode federated without sink secrets — no Key Vault is created",
    });
  });

  it("adds the workspace content's writes: the function always, Sentinel's when it is on", async () => {
    const content = (overrides: Partial<Parameters<typeof requiredProviders>[0]>) =>
      deploymentActions(shape(overrides)).filter((a) =>
        /savedSearches|SecurityInsights|workbooks/.test(a),
      );
    expect(content({})).toEqual(["Microsoft.OperationalInsights/workspaces/savedSearches/write"]);
    expect(content({ tablePlan: "Basic" })).toEqual([]);
    expect(content({ sentinel: "create" })).toEqual([
      "Microsoft.OperationalInsights/workspaces/savedSearches/write",
      "Microsoft.SecurityInsights/onboardingStates/write",
      "Microsoft.SecurityInsights/alertRules/write",
      "Microsoft.Insights/workbooks/write",
    ]);
    expect(content({ sentinel: "existing" })).not.toContain(
      "Microsoft.SecurityInsights/onboardingStates/write",
    );
    // An existing workspace's content is checked on the workspace (check 7), not the group.
    expect(content({ sentinel: "create", workspaceResourceId: WORKSPACE })).toEqual([]);
    expect(
      workspaceContentActions(shape({ sentinel: "create", workspaceResourceId: WORKSPACE })),
    ).toHaveLength(4);
    const stack = [...BASE, "--stack", "contoso"];
    expect((await config(stack, { sentinel: "true" })).sentinel).toBe("create");
    expect(
      (await config(stack, { sentinel: "true", sentinelOnboarding: "existing" })).sentinel,
    ).toBe("existing");
    expect((await config(stack, { sentinel: "false" })).sentinel).toBe("off");
    expect(await inputError(stack, { sentinel: "true", tablePlan: "Basic" })).toBe(
      "auditbridge:sentinel needs auditbridge:tablePlan Analytics (a Basic table cannot feed Sentinel analytics rules, hunting queries or functions): set it with pulumi config set auditbridge:tablePlan Analytics --stack contoso, or pulumi config set auditbridge:sentinel false --stack contoso",
    );
    expect(await inputError(stack, { sentinel: "true", sinks: "syslog" })).toBe(
      "auditbridge:sentinel needs the audit workspace, which only the logs-ingestion sink creates: remove it with pulumi config rm auditbridge:sentinel --stack contoso, or add logs-ingestion to auditbridge:sinks",
    );
    expect(await inputError(stack, { sentinel: "yes" })).toBe(
      "auditbridge:sentinel (stack config): must be true or false (got yes): set it with pulumi config set auditbridge:sentinel true --stack contoso",
    );
  });

  it("knows when a stack creates a Key Vault: a stored credential, the HEC token or syslog's client key", async () => {
    const stack = [...BASE, "--stack", "contoso"];
    const vault = async (argv: string[], settings: StackSettings = {}) =>
      (await config(argv, settings)).keyVault;
    expect(await vault(BASE)).toBe(true);
    expect(await vault(stack, { credentialMode: "certificate" })).toBe(true);
    expect(await vault(stack, { credentialMode: "federated" })).toBe(false);
    expect(await vault(stack, { credentialMode: "federated", sinks: "syslog" })).toBe(false);
    expect(
      await vault(stack, {
        credentialMode: "federated",
        sinks: "syslog",
        syslogClientKeySet: "true",
      }),
    ).toBe(true);
    expect(await vault(stack, { credentialMode: "federated", sinks: "splunk-hec" })).toBe(true);
    // Flags alone cannot tell whether syslog uses a client key: assume it does.
    expect(await vault([...BASE, "--credential-mode", "federated", "--sinks", "syslog"])).toBe(
      true,
    );
    expect(await vault([...BASE, "--credential-mode", "federated"])).toBe(false);
    expect(await vault([...BASE, "--collector", "none"])).toBe(true);
    expect(
      stackSettingsFromJson(
        JSON.stringify({
          "auditbridge:credentialMode": { value: "federated", secret: false },
          "auditbridge:syslogClientKeyPem": { value: "[secret]", secret: true },
        }),
      ),
    ).toEqual({ credentialMode: "federated", syslogClientKeySet: "true" });
  });

  it("fails a scheduled collector where the location has environments but no jobs", async () => {
    const c = await config([...BASE, "--collector-mode", "scheduled"]);
    const verdict = judgeContainerAppsLocation(c, [
      {
        namespace: "Microsoft.App",
        kind: "found",
        registrationState: "Registered",
        resourceTypes: {
          managedenvironments: ["West Europe", "North Europe"],
          jobs: ["North Europe"],
        },
      },
    ]);
    expect(verdict.status).toBe("fail");
    expect(verdict.reason).toBe("westeurope does not offer Container Apps jobs");
    expect(verdict.fix).toMatch(/^pick one of northeurope: --location <location>$/);
    const alwaysOn = judgeContainerAppsLocation(await config(BASE), [
      {
        namespace: "Microsoft.App",
        kind: "found",
        registrationState: "Registered",
        resourceTypes: { managedenvironments: ["West Europe"], jobs: [] },
      },
    ]);
    expect(alwaysOn).toMatchObject({ status: "pass", reason: "westeurope offers Container Apps" });
  });
});
