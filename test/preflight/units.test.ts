import { describe, expect, it } from "vitest";
import { resourceNames, uniqueSuffix } from "../../components/naming";
import { describeError } from "../../scripts/preflight/azure";
import { judgeDirectory } from "../../scripts/preflight/checks/directory";
import { judgeProviders, locationName } from "../../scripts/preflight/checks/providers";
import {
  isPreflightInputError,
  type PreflightConfig,
  resolvePreflightConfig,
  stackSettingsFromJson,
} from "../../scripts/preflight/inputs";
import {
  actionMatches,
  DEPLOYMENT_ACTIONS,
  isAllowed,
  missingActions,
  ROLE_ASSIGNMENT_WRITE,
} from "../../scripts/preflight/permissions";
import { CONTRIBUTOR, OWNER, READER, USER_ACCESS_ADMINISTRATOR } from "./roles";

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

async function config(argv: string[], env: Record<string, string> = {}): Promise<PreflightConfig> {
  const result = await resolvePreflightConfig(argv, env, {
    stackReader: { config: async () => ({}) },
  });
  if (result === "help") throw new Error("help");
  return result;
}

async function inputError(argv: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    await config(argv, env);
  } catch (error) {
    if (isPreflightInputError(error)) return error.message;
    throw error;
  }
  throw new Error("expected an input error");
}

describe("RBAC action matching", () => {
  it("matches wildcards case-insensitively", () => {
    expect(actionMatches("*", "Microsoft.KeyVault/vaults/write")).toBe(true);
    expect(actionMatches("Microsoft.Authorization/*/Write", ROLE_ASSIGNMENT_WRITE)).toBe(true);
    expect(actionMatches("*/read", "Microsoft.KeyVault/vaults/write")).toBe(false);
    expect(
      actionMatches(
        "Microsoft.OperationalInsights/*",
        "microsoft.operationalinsights/workspaces/tables/write",
      ),
    ).toBe(true);
    expect(actionMatches("Microsoft.App/*", "Microsoft.AppConfiguration/x/write")).toBe(false);
  });

  it("subtracts notActions per role, and unions roles", () => {
    expect(isAllowed([CONTRIBUTOR], "Microsoft.KeyVault/vaults/write")).toBe(true);
    expect(isAllowed([CONTRIBUTOR], ROLE_ASSIGNMENT_WRITE)).toBe(false);
    expect(isAllowed([CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR], ROLE_ASSIGNMENT_WRITE)).toBe(true);
    expect(missingActions([OWNER], DEPLOYMENT_ACTIONS)).toEqual([]);
    expect(missingActions([CONTRIBUTOR], DEPLOYMENT_ACTIONS)).toEqual([ROLE_ASSIGNMENT_WRITE]);
    expect(missingActions([READER], DEPLOYMENT_ACTIONS)).toEqual([...DEPLOYMENT_ACTIONS]);
    expect(isAllowed([], "Microsoft.KeyVault/vaults/write")).toBe(false);
  });
});

describe("inputs", () => {
  it("derives the Key Vault name exactly as the stack does", async () => {
    const c = await config(BASE);
    expect(c.keyVaultName).toBe(
      resourceNames("contoso", uniqueSuffix(TENANT, "rg-auditbridge", "contoso")).keyVault,
    );
    expect(c.azureTenantId).toBe(TENANT);
    expect(c.armScope).toBe("https://management.azure.com/.default");
  });

  it("reads the stack's config, derives namePrefix from the stack name, and lets flags win", async () => {
    const result = await resolvePreflightConfig(
      ["--stack", "Contoso-Prod", "--location", "northeurope"],
      {},
      {
        stackReader: {
          config: async () => ({
            m365TenantId: TENANT,
            subscriptionId: SUBSCRIPTION,
            resourceGroupName: "rg-x",
            location: "westeurope",
            keyVaultRecoverSoftDeleted: "true",
          }),
        },
      },
    );
    if (result === "help") throw new Error("help");
    expect(result).toMatchObject({
      stack: "Contoso-Prod",
      namePrefix: "contosoprod",
      location: "northeurope",
      resourceGroup: "rg-x",
      keyVaultRecoverSoftDeleted: true,
    });
  });

  it("turns pulumi config --json into settings, never keeping a secret", () => {
    const settings = stackSettingsFromJson(
      JSON.stringify({
        "auditbridge:m365TenantId": { value: TENANT, secret: false },
        "auditbridge:keyVaultRecoverSoftDeleted": { value: true, secret: false },
        "auditbridge:clientCertificatePem": { value: "[secret]", secret: true },
        "azure-native:subscriptionId": { value: SUBSCRIPTION, secret: false },
        "auditbridge:location": { value: "[secret]", secret: true },
      }),
    );
    expect(settings).toEqual({
      m365TenantId: TENANT,
      keyVaultRecoverSoftDeleted: "true",
      subscriptionId: SUBSCRIPTION,
    });
  });

  it("answers every bad input with one line naming what to fix", async () => {
    const cases: [string[], Record<string, string>, RegExp][] = [
      [BASE.slice(2), {}, /^missing --tenant-id: .*AZURE_TENANT_ID/],
      [["--tenant-id", "nope", ...BASE.slice(2)], {}, /^--tenant-id: must be a GUID/],
      [
        [...BASE.slice(0, 2), ...BASE.slice(4)],
        {},
        /^missing --subscription-id: .*AZURE_SUBSCRIPTION_ID/,
      ],
      [BASE.slice(0, 4), {}, /^missing --resource-group/],
      [[...BASE.slice(0, 6), ...BASE.slice(8)], {}, /^missing --location/],
      [BASE.slice(0, 8), {}, /^missing --name-prefix/],
      [[...BASE.slice(0, 9), "Contoso!"], {}, /^--name-prefix: must be 2 to 12 lowercase/],
      [[...BASE, "--location", "West Europe"], {}, /^--location: must be an Azure location name/],
      [
        [...BASE, "--workspace-resource-id", "/subscriptions/x"],
        {},
        /^--workspace-resource-id: must be a resource id/,
      ],
      [
        [
          ...BASE,
          "--registry-resource-id",
          `/subscriptions/${SUBSCRIPTION}/resourceGroups/g/providers/Microsoft.OperationalInsights/workspaces/w`,
        ],
        {},
        /^--registry-resource-id: must be a resource id like .*Microsoft\.ContainerRegistry\/registries/,
      ],
      [
        [...BASE, "--arm-endpoint", "http://localhost"],
        {},
        /^--arm-endpoint: must be an https:\/\/ URL/,
      ],
      [
        BASE,
        { MICROSOFT_GRAPH_ENDPOINT: "ftp://x" },
        /^--graph-endpoint: must be an https:\/\/ URL/,
      ],
      [[...BASE, "--cloud", "mars"], {}, /^--cloud: must be one of commercial, gcc, gcchigh, dod/],
      [[...BASE, "--timeout", "0"], {}, /^--timeout: must be a whole number/],
      [[...BASE, "--frobnicate"], {}, /^unknown flag --frobnicate/],
      [[...BASE, "stray"], {}, /^unexpected argument/],
    ];
    for (const [argv, env, pattern] of cases) {
      const message = await inputError(argv, env);
      expect(message, argv.join(" ")).toMatch(pattern);
      expect(message).not.toContain("\n");
    }
  });

  it("takes the ARM and Graph endpoints from the environment", async () => {
    const c = await config(BASE, {
      AZURE_RESOURCE_MANAGER_ENDPOINT: "https://arm.example.test/",
      MICROSOFT_GRAPH_ENDPOINT: "https://graph.example.test",
      AZURE_AUTHORITY_HOST: "https://login.example.test",
    });
    expect(c).toMatchObject({
      armEndpoint: "https://arm.example.test",
      armScope: "https://arm.example.test/.default",
      graphEndpoint: "https://graph.example.test",
      graphAudience: "https://graph.microsoft.com",
      disableInstanceDiscovery: true,
    });
  });
});

describe("judges", () => {
  it("warns while a provider is still registering", async () => {
    const c = await config(BASE);
    const verdict = judgeProviders(c, [
      {
        namespace: "Microsoft.App",
        kind: "found",
        registrationState: "Registering",
        resourceTypes: {},
      },
    ]);
    expect(verdict.status).toBe("warn");
  });

  it("maps ARM display names to location names", () => {
    expect(locationName("Germany West Central")).toBe("germanywestcentral");
  });

  it("accepts any one of the consent roles and nothing else", async () => {
    const c = await config(BASE);
    const judge = (ids: string[]) =>
      judgeDirectory(c, { kind: "user", upn: "a@b", roleTemplateIds: ids }).status;
    expect(judge(["e8611ab8-c189-46e8-94e1-60213ab1f814"])).toBe("pass");
    expect(judge(["9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3"])).toBe("pass");
    expect(judge(["fe930be7-5e62-47db-91af-98c3a49a38b1"])).toBe("fail");
    expect(judge([])).toBe("fail");
  });

  it("describes token errors by code, without the rest of the message", () => {
    const error = Object.assign(
      new Error(
        "ClientSecretCredential authentication failed: AADSTS7000215: Invalid client secret provided. Trace ID: abc secret=hunter2",
      ),
      { name: "AuthenticationError" },
    );
    const failure = describeError(error);
    expect(failure.code).toBe("AADSTS7000215");
    expect(failure.message).toBe("AADSTS7000215: Invalid client secret provided.");
    expect(failure.message).not.toContain("hunter2");
  });
});
