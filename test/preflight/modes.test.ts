import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../emulator/src/index";
import { type ArmPermission, defaultPreflightKnobs } from "../../emulator/src/preflightKnobs";
import {
  type PreflightConfig,
  resolvePreflightConfig,
  type StackSettings,
} from "../../scripts/preflight/inputs";
import { preflight } from "../../scripts/preflight/main";
import type { PreflightReport } from "../../scripts/preflight/report";
import {
  check,
  preflightFlags,
  resourceId,
  servicePrincipalCredential,
  startPreflightEmulator,
} from "./helpers";
import { CONTRIBUTOR, LOG_ANALYTICS_CONTRIBUTOR, OWNER, READER } from "./roles";

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startPreflightEmulator();
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.knobs.preflight = defaultPreflightKnobs();
});

/** A config for stack `contoso` whose `auditbridge:*` settings are `settings`, aimed at the emulator. */
async function stackConfig(
  settings: StackSettings,
  extra: string[] = [],
): Promise<PreflightConfig> {
  const config = await resolvePreflightConfig(
    preflightFlags(emulator, ["--stack", "contoso", ...extra]),
    {},
    { stackReader: { config: async () => settings } },
  );
  if (config === "help") throw new Error("unexpected help");
  return config;
}

/** An existing workspace in rg-shared on which the caller holds `permissions`; returns its id. */
function existingWorkspace(name: string, permissions: ArmPermission[]): string {
  emulator.knobs.preflight.resourceGroups.push("rg-shared");
  const id = resourceId(emulator, "rg-shared", "Microsoft.OperationalInsights", "workspaces", name);
  emulator.knobs.preflight.resources = [
    { id, location: "westeurope", permissions, readable: true },
  ];
  return id;
}

function run(config: PreflightConfig): Promise<PreflightReport> {
  return preflight(config, { credential: servicePrincipalCredential(emulator) });
}

/** Only what a collector-none stack creates in the group: the vault, its secret, the deployer's grant. */
const KEY_VAULT_ONLY = {
  actions: [
    "*/read",
    "Microsoft.KeyVault/vaults/write",
    "Microsoft.KeyVault/vaults/secrets/write",
    "Microsoft.Authorization/roleAssignments/write",
  ],
  notActions: [],
};

/** Provider reads made since request number `since`, by namespace. */
function providersRead(since: number): string[] {
  return emulator.truth
    .requestLog()
    .slice(since)
    .map((r) => /\/providers\/([^/?]+)$/i.exec(r.path.split("?")[0] ?? "")?.[1])
    .filter((ns): ns is string => ns !== undefined);
}

describe("preflight per deployment mode, against the emulator over HTTPS", () => {
  describe("collector none (bring your own SIEM)", () => {
    const notDeployedYet = () => {
      const knobs = emulator.knobs.preflight;
      knobs.unregisteredProviders = [
        "Microsoft.App",
        "Microsoft.ManagedIdentity",
        "Microsoft.Storage",
        "Microsoft.Insights",
        "Microsoft.OperationalInsights",
      ];
      knobs.containerAppsLocations = ["East US"];
      knobs.resourceGroupPermissions = [KEY_VAULT_ONLY];
    };

    it("passes without Container Apps, its providers, or workspace rights, skipping those checks", async () => {
      notDeployedYet();
      const config = await stackConfig({ collector: "none" });
      expect(config).toMatchObject({ collector: "none", collectorMode: null, sinks: [] });
      const before = emulator.truth.requestLog().length;
      const report = await run(config);
      expect(report.status).toBe("pass");
      expect(report.exitCode).toBe(0);
      for (const id of ["container-apps-location", "workspace", "registry"] as const) {
        expect(check(report, id).status).toBe("skip");
        expect(check(report, id).reason).toMatch(/^collector none — not deployed/);
      }
      expect(check(report, "providers")).toMatchObject({ status: "pass" });
      expect(check(report, "providers").reason).toContain("all 1 registered (Microsoft.KeyVault;");
      expect(check(report, "rg-permissions").status).toBe("pass");
      expect(check(report, "key-vault-name").status).toBe("pass");
      expect(check(report, "directory-role").status).toBe("pass");
      expect(check(report, "o365-service-principal").status).toBe("pass");
      // Nothing the stack does not deploy is even read.
      expect(providersRead(before)).toEqual(["Microsoft.KeyVault"]);
    });

    it("fails when a soft-deleted vault holds the stack's vault name", async () => {
      notDeployedYet();
      const config = await stackConfig({ collector: "none" });
      emulator.knobs.preflight.deletedVaults = [
        { name: config.keyVaultName, location: "westeurope" },
      ];
      const report = await run(config);
      expect(report.status).toBe("fail");
      expect(report.exitCode).toBe(1);
      const vault = check(report, "key-vault-name");
      expect(vault.status).toBe("fail");
      expect(vault.fix).toContain(
        "pulumi config set auditbridge:keyVaultRecoverSoftDeleted true --stack contoso",
      );
    });

    it("still needs Microsoft.KeyVault registered and role assignments (the deployer's vault grant)", async () => {
      emulator.knobs.preflight.unregisteredProviders = ["Microsoft.KeyVault", "Microsoft.App"];
      emulator.knobs.preflight.resourceGroupPermissions = [CONTRIBUTOR];
      const report = await run(await stackConfig({ collector: "none" }));
      const providers = check(report, "providers");
      expect(providers.status).toBe("fail");
      expect(providers.details?.unregistered).toEqual(["Microsoft.KeyVault"]);
      const permissions = check(report, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.details?.missingActions).toEqual([
        "Microsoft.Authorization/roleAssignments/write",
      ]);
      expect(permissions.fix).toContain('--role "User Access Administrator"');
    });

    it("takes --collector none from a flag, for a run without a stack", async () => {
      notDeployedYet();
      const config = await resolvePreflightConfig(
        preflightFlags(emulator, ["--collector", "none"]),
        {},
      );
      if (config === "help") throw new Error("unexpected help");
      const report = await run(config);
      expect(report.status).toBe("pass");
      expect(check(report, "container-apps-location").reason).toMatch(
        /^collector none — not deployed/,
      );
    });
  });

  describe("sinks without logs-ingestion", () => {
    const sharedWorkspace = () =>
      resourceId(
        emulator,
        "rg-shared",
        "Microsoft.OperationalInsights",
        "workspaces",
        "log-shared",
      );

    it("a syslog-only stack skips the workspace and its providers, and still checks Container Apps", async () => {
      emulator.knobs.preflight.unregisteredProviders = [
        "Microsoft.Insights",
        "Microsoft.OperationalInsights",
      ];
      emulator.knobs.preflight.resourceGroupPermissions = [
        { actions: ["*"], notActions: ["Microsoft.OperationalInsights/*", "Microsoft.Insights/*"] },
      ];
      const config = await stackConfig({ sinks: "syslog" });
      expect(config).toMatchObject({
        collector: "bundled",
        collectorMode: "always-on",
        sinks: ["syslog"],
      });
      const report = await run(config);
      expect(report.status).toBe("pass");
      const workspace = check(report, "workspace");
      expect(workspace.status).toBe("skip");
      expect(workspace.reason).toBe(
        "sinks syslog without logs-ingestion — not deployed (no workspace, table or DCR)",
      );
      expect(check(report, "providers").reason).toContain(
        "this stack deploys nothing of Microsoft.Insights, Microsoft.OperationalInsights",
      );

      emulator.knobs.preflight.containerAppsLocations = ["East US"];
      emulator.knobs.preflight.unregisteredProviders = ["Microsoft.App"];
      const bundledParts = await run(config);
      expect(check(bundledParts, "container-apps-location").status).toBe("fail");
      expect(check(bundledParts, "providers").details?.unregistered).toEqual(["Microsoft.App"]);
    });

    it("checks a workspace given for the environment's logs: read and sharedKeys, not tables", async () => {
      emulator.knobs.preflight.resourceGroups.push("rg-shared");
      const config = await stackConfig({
        sinks: "splunk-hec,syslog",
        workspaceResourceId: sharedWorkspace(),
      });
      expect(config.sinks).toEqual(["syslog", "splunk-hec"]);

      // Reading it is not enough: the diagnostic setting needs workspaces/sharedKeys/action.
      emulator.knobs.preflight.resources = [
        { id: sharedWorkspace(), location: "westeurope", permissions: [READER], readable: true },
      ];
      const readOnly = check(await run(config), "workspace");
      expect(readOnly.status).toBe("fail");
      expect(readOnly.details?.missingActions).toEqual([
        "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
      ]);
      expect(readOnly.fix).toContain(`--scope ${sharedWorkspace()}`);

      emulator.knobs.preflight.resources = [
        {
          id: sharedWorkspace(),
          location: "westeurope",
          permissions: [
            {
              actions: [
                "Microsoft.OperationalInsights/workspaces/read",
                "Microsoft.OperationalInsights/workspaces/sharedKeys/action",
              ],
              notActions: [],
            },
          ],
          readable: true,
        },
      ];
      const sendOnly = check(await run(config), "workspace");
      expect(sendOnly.status).toBe("pass");
      expect(sendOnly.reason).toContain("receives the Container Apps environment's logs");

      emulator.knobs.preflight.resources = [
        { id: sharedWorkspace(), location: "westeurope", permissions: [], readable: false },
      ];
      const unreadable = check(await run(config), "workspace");
      expect(unreadable.status).toBe("fail");
      expect(unreadable.reason).toContain("AuthorizationFailed");
    });

    it("keeps Microsoft.Insights (the environment's diagnostic setting) when a workspace is given", async () => {
      emulator.knobs.preflight.resourceGroups.push("rg-shared");
      emulator.knobs.preflight.resources = [
        {
          id: sharedWorkspace(),
          location: "westeurope",
          permissions: [LOG_ANALYTICS_CONTRIBUTOR],
          readable: true,
        },
      ];
      emulator.knobs.preflight.unregisteredProviders = [
        "Microsoft.Insights",
        "Microsoft.OperationalInsights",
      ];
      const report = await run(
        await stackConfig({}, ["--sinks", "syslog", "--workspace-resource-id", sharedWorkspace()]),
      );
      expect(check(report, "workspace").status).toBe("pass");
      expect(check(report, "providers").details?.unregistered).toEqual(["Microsoft.Insights"]);
    });
  });

  describe("keyless (credentialMode federated) without sink secrets", () => {
    it("skips the Key Vault name and needs neither Microsoft.KeyVault nor vault writes", async () => {
      const knobs = emulator.knobs.preflight;
      knobs.unregisteredProviders = ["Microsoft.KeyVault"];
      const config = await stackConfig({ credentialMode: "federated", sinks: "syslog" });
      expect(config.keyVault).toBe(false);
      // A vault of that name, soft-deleted: it would fail the check if the stack made a vault.
      knobs.deletedVaults = [{ name: config.keyVaultName, location: "westeurope" }];
      const before = emulator.truth.requestLog().length;
      const report = await run(config);
      expect(check(report, "key-vault-name")).toMatchObject({
        status: "skip",
        reason: "credentialMode federated without sink secrets — no Key Vault is created",
      });
      expect(check(report, "providers").status).toBe("pass");
      expect(providersRead(before)).not.toContain("Microsoft.KeyVault");
      expect(report.exitCode).toBe(0);
    });

    it("checks the vault again once syslog has a client key (a secret the vault keeps)", async () => {
      const config = await stackConfig({
        credentialMode: "federated",
        sinks: "syslog",
        syslogClientKeySet: "true",
      });
      emulator.knobs.preflight.deletedVaults = [
        { name: config.keyVaultName, location: "westeurope" },
      ];
      const report = await run(config);
      expect(check(report, "key-vault-name").status).toBe("fail");
    });
  });

  describe("collectorMode scheduled", () => {
    it("needs Microsoft.App/jobs/write where always-on needs containerApps/write", async () => {
      emulator.knobs.preflight.resourceGroupPermissions = [
        { actions: ["*"], notActions: ["Microsoft.App/jobs/*"] },
      ];
      const alwaysOn = await run(await stackConfig({ collectorMode: "always-on" }));
      expect(check(alwaysOn, "rg-permissions").status).toBe("pass");
      const scheduled = await run(await stackConfig({ collectorMode: "scheduled" }));
      const permissions = check(scheduled, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.details?.missingActions).toEqual(["Microsoft.App/jobs/write"]);
      expect(check(scheduled, "container-apps-location")).toMatchObject({
        status: "pass",
        reason: "westeurope offers Container Apps environments and jobs",
      });
    });

    it("fails a location without Container Apps, as always-on does", async () => {
      emulator.knobs.preflight.containerAppsLocations = ["North Europe"];
      const report = await run(await stackConfig({}, ["--collector-mode", "scheduled"]));
      const location = check(report, "container-apps-location");
      expect(location.status).toBe("fail");
      expect(location.reason).toContain("westeurope does not offer Container Apps");
      expect(location.fix).toContain("northeurope");
    });
  });

  describe("Microsoft Sentinel on (auditbridge:sentinel)", () => {
    it("needs Microsoft.SecurityInsights registered and Sentinel's writes in the group", async () => {
      emulator.knobs.preflight.unregisteredProviders = ["Microsoft.SecurityInsights"];
      emulator.knobs.preflight.resourceGroupPermissions = [
        { actions: ["*"], notActions: ["Microsoft.SecurityInsights/*"] },
      ];
      const off = await run(await stackConfig({}));
      expect(check(off, "providers")).toMatchObject({ status: "pass", reason: "all 6 registered" });
      expect(check(off, "rg-permissions").status).toBe("pass");

      const on = await run(await stackConfig({ sentinel: "true" }));
      const providers = check(on, "providers");
      expect(providers.status).toBe("fail");
      expect(providers.details?.unregistered).toEqual(["Microsoft.SecurityInsights"]);
      const permissions = check(on, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.details?.missingActions).toEqual([
        "Microsoft.SecurityInsights/onboardingStates/write",
        "Microsoft.SecurityInsights/alertRules/write",
      ]);
      // A workspace already onboarded: the stack writes no onboarding state.
      const existing = await run(
        await stackConfig({ sentinel: "true", sentinelOnboarding: "existing" }),
      );
      expect(check(existing, "rg-permissions").details?.missingActions).toEqual([
        "Microsoft.SecurityInsights/alertRules/write",
      ]);
    });

    it("checks Sentinel's writes on an existing workspace and names the role that grants them", async () => {
      const workspace = existingWorkspace("log-sentinel", [LOG_ANALYTICS_CONTRIBUTOR]);
      const report = await run(
        await stackConfig({ sentinel: "true", workspaceResourceId: workspace }),
      );
      const check7 = check(report, "workspace");
      expect(check7.status).toBe("fail");
      expect(check7.details?.missingActions).toEqual([
        "Microsoft.SecurityInsights/onboardingStates/write",
        "Microsoft.SecurityInsights/alertRules/write",
        "Microsoft.Insights/workbooks/write",
      ]);
      expect(check7.fix).toContain('--role "Microsoft Sentinel Contributor"');
      expect(check7.fix).toContain(`--scope ${workspace}`);
    });
  });

  describe("default stacks", () => {
    it("still check every provider, Container Apps and the full set of writes", async () => {
      emulator.knobs.preflight.unregisteredProviders = ["Microsoft.OperationalInsights"];
      emulator.knobs.preflight.resourceGroupPermissions = [
        { actions: ["*"], notActions: ["Microsoft.Insights/diagnosticSettings/*"] },
      ];
      const config = await stackConfig({ collector: "bundled", sinks: "logs-ingestion" });
      expect(config).toMatchObject({
        collector: "bundled",
        collectorMode: "always-on",
        sinks: ["logs-ingestion"],
        tablePlan: "Analytics",
      });
      const report = await run(config);
      expect(check(report, "providers").details?.unregistered).toEqual([
        "Microsoft.OperationalInsights",
      ]);
      expect(check(report, "rg-permissions").details?.missingActions).toEqual([
        "Microsoft.Insights/diagnosticSettings/write",
      ]);
      expect(check(report, "container-apps-location").status).toBe("pass");
      expect(check(report, "workspace").reason).toBe(
        "no workspaceResourceId: the stack creates a new workspace",
      );
      emulator.knobs.preflight.resourceGroupPermissions = [OWNER];
      emulator.knobs.preflight.unregisteredProviders = [];
      const ok = await run(config);
      expect(ok.status).toBe("pass");
      expect(check(ok, "providers").reason).toBe("all 6 registered");
    });

    it("name the table plan when the caller can create the table in an existing workspace", async () => {
      const workspace = existingWorkspace("log-shared", [LOG_ANALYTICS_CONTRIBUTOR]);
      const report = await run(
        await stackConfig({ tablePlan: "basic", workspaceResourceId: workspace }),
      );
      expect(check(report, "workspace")).toMatchObject({
        status: "pass",
        reason: "reachable (westeurope); you can create the Basic table",
      });
    });
  });
});
