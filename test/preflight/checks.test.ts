import { ClientSecretCredential } from "@azure/identity";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Emulator } from "../../emulator/src/index";
import {
  DEFAULT_RESOURCE_GROUP,
  defaultPreflightKnobs,
  emulatedSubscriptionId,
} from "../../emulator/src/preflightKnobs";
import { resolvePreflightConfig } from "../../scripts/preflight/inputs";
import { preflight } from "../../scripts/preflight/main";
import {
  check,
  preflightConfig,
  preflightFlags,
  resourceId,
  runAgainst,
  servicePrincipalCredential,
  startPreflightEmulator,
  userCredential,
} from "./helpers";
import {
  CLOUD_APPLICATION_ADMINISTRATOR,
  CONTRIBUTOR,
  GLOBAL_READER,
  LOG_ANALYTICS_CONTRIBUTOR,
  OWNER,
  READER,
  USER_ACCESS_ADMINISTRATOR,
} from "./roles";

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

describe("preflight against the emulator over HTTPS", () => {
  it("passes every check for a service principal with Owner and the Graph permissions", async () => {
    const report = await runAgainst(emulator);
    expect(report.status).toBe("pass");
    expect(report.exitCode).toBe(0);
    expect(check(report, "sign-in").reason).toContain(
      `service principal ${emulator.tenant.clientId}`,
    );
    expect(check(report, "workspace").status).toBe("skip");
    expect(check(report, "registry").status).toBe("skip");
    // Read-only: every request preflight made was a GET, except the token requests.
    const writes = emulator.truth
      .requestLog()
      .filter((r) => r.method !== "GET" && !/\/oauth2\//.test(r.path));
    expect(writes).toEqual([]);
  });

  it("passes for a person who is Global Administrator, read through /me/transitiveMemberOf", async () => {
    const report = await runAgainst(emulator, [], userCredential(emulator));
    expect(report.status).toBe("pass");
    expect(check(report, "directory-role").reason).toContain("Global Administrator");
    expect(emulator.truth.requestLog().some((r) => r.path === "/v1.0/me/transitiveMemberOf")).toBe(
      true,
    );
  });

  describe("sign-in", () => {
    it("fails with az login when the credential is refused, and skips what needs a token", async () => {
      const config = await preflightConfig(emulator);
      const wrong = new ClientSecretCredential(
        emulator.tenant.tenantId,
        emulator.tenant.clientId,
        "not-the-secret",
        { authorityHost: emulator.url, disableInstanceDiscovery: true },
      );
      const report = await preflight(config, { credential: wrong });
      const signIn = check(report, "sign-in");
      expect(signIn.status).toBe("fail");
      expect(signIn.reason).toContain("AADSTS7000215");
      expect(signIn.fix).toContain(`az login --tenant ${emulator.tenant.tenantId}`);
      expect(check(report, "resource-group").status).toBe("skip");
      expect(check(report, "directory-role").status).toBe("skip");
      expect(report.exitCode).toBe(1);
      expect(JSON.stringify(report)).not.toContain("not-the-secret");
    });

    it("fails a cross-tenant setup when the caller cannot sign in to the Azure tenant", async () => {
      const other = "0f0e0d0c-0b0a-4009-8807-060504030201";
      const report = await runAgainst(emulator, ["--azure-tenant-id", other]);
      const signIn = check(report, "sign-in");
      expect(signIn.status).toBe("fail");
      expect(signIn.reason).toContain(`Azure tenant ${other}`);
      expect(signIn.reason).toContain("unknown tenant");
      expect(signIn.fix).toContain(`az login --tenant ${other}`);
      expect(signIn.fix).toContain(`az login --tenant ${emulator.tenant.tenantId}`);
    });

    it("passes a cross-tenant setup when the caller can sign in to both tenants", async () => {
      const other = "0f0e0d0c-0b0a-4009-8807-060504030201";
      emulator.knobs.preflight.secondTenantId = other;
      const report = await runAgainst(emulator, ["--azure-tenant-id", other]);
      expect(check(report, "sign-in")).toMatchObject({ status: "pass" });
      expect(check(report, "sign-in").reason).toContain("both tenants");
      expect(report.status).toBe("pass");
    });
  });

  describe("resource group and permissions", () => {
    it("fails with az group create when the resource group does not exist", async () => {
      const report = await runAgainst(emulator, ["--resource-group", "rg-missing"]);
      const group = check(report, "resource-group");
      expect(group.status).toBe("fail");
      expect(group.fix).toBe(
        `az group create --name rg-missing --location westeurope --subscription ${emulatedSubscriptionId(emulator.seed)}`,
      );
      expect(check(report, "rg-permissions").status).toBe("skip");
    });

    it("fails Contributor alone: it cannot create role assignments", async () => {
      emulator.knobs.preflight.resourceGroupPermissions = [CONTRIBUTOR];
      const report = await runAgainst(emulator);
      const permissions = check(report, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.reason).toContain("Microsoft.Authorization/roleAssignments/write");
      expect(permissions.reason).toContain("as with Contributor alone");
      expect(permissions.fix).toContain('--role "User Access Administrator"');
      expect(permissions.fix).toContain(
        `--scope /subscriptions/${emulatedSubscriptionId(emulator.seed)}/resourceGroups/${DEFAULT_RESOURCE_GROUP}`,
      );
      // The assignee is the caller's object id, taken from its own token.
      expect(permissions.fix).toContain(`--assignee ${emulator.tenant.servicePrincipalObjectId}`);
    });

    it("passes Contributor plus User Access Administrator", async () => {
      emulator.knobs.preflight.resourceGroupPermissions = [CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR];
      const report = await runAgainst(emulator);
      expect(check(report, "rg-permissions").status).toBe("pass");
    });

    it("fails Reader with the Owner fix and lists what is missing", async () => {
      emulator.knobs.preflight.resourceGroupPermissions = [READER];
      const report = await runAgainst(emulator);
      const permissions = check(report, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.fix).toContain('--role "Owner"');
      expect(permissions.details?.missingActions).toContain("Microsoft.KeyVault/vaults/write");
    });
  });

  describe("reads the caller may not make", () => {
    it("fails each Azure check with its fix when ARM answers 403", async () => {
      emulator.knobs.preflight.forbiddenReads = ["resourceGroup", "providers", "deletedVaults"];
      const report = await runAgainst(emulator);
      const group = check(report, "resource-group");
      expect(group.status).toBe("fail");
      expect(group.reason).toContain("AuthorizationFailed");
      expect(group.fix).toContain("for at least Reader on");
      expect(check(report, "rg-permissions").status).toBe("skip");
      const providers = check(report, "providers");
      expect(providers.status).toBe("fail");
      expect(providers.fix).toContain("az provider show --namespace");
      expect(check(report, "container-apps-location").status).toBe("fail");
      const vault = check(report, "key-vault-name");
      expect(vault.status).toBe("fail");
      expect(vault.fix).toContain("az keyvault list-deleted");
    });

    it("fails the permissions check when the permissions listing is refused", async () => {
      emulator.knobs.preflight.forbiddenReads = ["permissions"];
      const report = await runAgainst(emulator);
      const permissions = check(report, "rg-permissions");
      expect(permissions.status).toBe("fail");
      expect(permissions.reason).toContain("cannot list your permissions");
    });
  });

  describe("resource providers and location", () => {
    it("fails unregistered providers with one az provider register per namespace", async () => {
      emulator.knobs.preflight.unregisteredProviders = ["Microsoft.App", "Microsoft.Insights"];
      const report = await runAgainst(emulator);
      const providers = check(report, "providers");
      const sub = emulatedSubscriptionId(emulator.seed);
      expect(providers.status).toBe("fail");
      expect(providers.reason).toContain("Microsoft.App, Microsoft.Insights");
      expect(providers.fix).toContain(
        `az provider register --namespace Microsoft.App --subscription ${sub} && az provider register --namespace Microsoft.Insights --subscription ${sub}`,
      );
    });

    it("warns while a provider is still registering (exit 3)", async () => {
      emulator.knobs.preflight.registeringProviders = ["Microsoft.App"];
      const report = await runAgainst(emulator);
      const providers = check(report, "providers");
      expect(providers.status).toBe("warn");
      expect(providers.fix).toContain("az provider show --namespace Microsoft.App");
      expect(report.exitCode).toBe(3);
    });

    it("fails a location without Container Apps and names the ones that have it", async () => {
      emulator.knobs.preflight.containerAppsLocations = ["North Europe", "East US"];
      const report = await runAgainst(emulator);
      const location = check(report, "container-apps-location");
      expect(location.status).toBe("fail");
      expect(location.reason).toContain("westeurope does not offer Container Apps");
      expect(location.fix).toContain("northeurope, eastus");
    });
  });

  describe("Key Vault name", () => {
    it("fails when a soft-deleted vault holds the stack's vault name", async () => {
      const config = await preflightConfig(emulator);
      emulator.knobs.preflight.deletedVaults = [
        { name: config.keyVaultName, location: "westeurope" },
      ];
      const report = await preflight(config, { credential: servicePrincipalCredential(emulator) });
      const vault = check(report, "key-vault-name");
      expect(vault.status).toBe("fail");
      expect(vault.fix).toContain("keyVaultRecoverSoftDeleted: true");
      expect(vault.fix).toContain(
        `az keyvault purge --name ${config.keyVaultName} --location westeurope`,
      );
    });

    it("passes a soft-deleted vault of another name", async () => {
      emulator.knobs.preflight.deletedVaults = [
        { name: "kv-other-abcdef", location: "westeurope" },
      ];
      const report = await runAgainst(emulator);
      expect(check(report, "key-vault-name").status).toBe("pass");
    });

    it("passes, or warns for another location, when the stack recovers it", async () => {
      const reader = {
        config: async () => ({ keyVaultRecoverSoftDeleted: "true" }),
      };
      const config = await resolvePreflightConfig(
        preflightFlags(emulator, ["--stack", "contoso"]),
        {},
        { stackReader: reader },
      );
      if (config === "help") throw new Error("help");
      emulator.knobs.preflight.deletedVaults = [
        { name: config.keyVaultName, location: "westeurope" },
      ];
      const credential = servicePrincipalCredential(emulator);
      const same = await preflight(config, { credential });
      expect(check(same, "key-vault-name")).toMatchObject({ status: "pass" });
      emulator.knobs.preflight.deletedVaults = [
        { name: config.keyVaultName, location: "northeurope" },
      ];
      const other = await preflight(config, { credential });
      expect(check(other, "key-vault-name").status).toBe("warn");
      expect(other.exitCode).toBe(3);
    });
  });

  describe("existing workspace and registry", () => {
    const workspace = () =>
      resourceId(
        emulator,
        "rg-shared",
        "Microsoft.OperationalInsights",
        "workspaces",
        "log-shared",
      );
    const registry = () =>
      resourceId(emulator, "rg-shared", "Microsoft.ContainerRegistry", "registries", "acrshared");
    const withShared = () => {
      emulator.knobs.preflight.resourceGroups.push("rg-shared");
    };

    it("passes a workspace where the caller can create tables", async () => {
      withShared();
      emulator.knobs.preflight.resources = [
        {
          id: workspace(),
          location: "westeurope",
          permissions: [LOG_ANALYTICS_CONTRIBUTOR],
          readable: true,
        },
      ];
      const report = await runAgainst(emulator, ["--workspace-resource-id", workspace()]);
      expect(check(report, "workspace")).toMatchObject({ status: "pass" });
    });

    it("fails a workspace that does not exist", async () => {
      withShared();
      const report = await runAgainst(emulator, ["--workspace-resource-id", workspace()]);
      const result = check(report, "workspace");
      expect(result.status).toBe("fail");
      expect(result.reason).toContain("does not exist");
    });

    it("fails a workspace the caller cannot read", async () => {
      withShared();
      emulator.knobs.preflight.resources = [
        { id: workspace(), location: "westeurope", permissions: [], readable: false },
      ];
      const report = await runAgainst(emulator, ["--workspace-resource-id", workspace()]);
      const result = check(report, "workspace");
      expect(result.status).toBe("fail");
      expect(result.reason).toContain("AuthorizationFailed");
      expect(result.fix).toContain('--role "Log Analytics Contributor"');
    });

    it("fails a workspace where the caller can only read", async () => {
      withShared();
      emulator.knobs.preflight.resources = [
        { id: workspace(), location: "westeurope", permissions: [READER], readable: true },
      ];
      const report = await runAgainst(emulator, ["--workspace-resource-id", workspace()]);
      const result = check(report, "workspace");
      expect(result.status).toBe("fail");
      expect(result.reason).toContain("Microsoft.OperationalInsights/workspaces/tables/write");
      expect(result.fix).toContain(`--scope ${workspace()}`);
    });

    it("passes a registry where the caller can grant AcrPull, fails one where it cannot", async () => {
      withShared();
      emulator.knobs.preflight.resources = [
        { id: registry(), location: "westeurope", permissions: [OWNER], readable: true },
      ];
      const ok = await runAgainst(emulator, ["--registry-resource-id", registry()]);
      expect(check(ok, "registry")).toMatchObject({ status: "pass" });

      emulator.knobs.preflight.resources = [
        { id: registry(), location: "westeurope", permissions: [CONTRIBUTOR], readable: true },
      ];
      const contributor = await runAgainst(emulator, ["--registry-resource-id", registry()]);
      const result = check(contributor, "registry");
      expect(result.status).toBe("fail");
      expect(result.reason).toContain("cannot grant AcrPull");
      expect(result.fix).toContain(`--scope ${registry()}`);
    });

    it("fails a registry that does not exist", async () => {
      withShared();
      const report = await runAgainst(emulator, ["--registry-resource-id", registry()]);
      expect(check(report, "registry").status).toBe("fail");
      expect(check(report, "registry").reason).toContain("does not exist");
    });
  });

  describe("Microsoft 365 tenant", () => {
    it("fails a service principal without AppRoleAssignment.ReadWrite.All", async () => {
      emulator.knobs.preflight.graphAppRoles = ["Application.ReadWrite.All"];
      const report = await runAgainst(emulator);
      const role = check(report, "directory-role");
      expect(role.status).toBe("fail");
      expect(role.reason).toContain("AppRoleAssignment.ReadWrite.All");
      expect(role.reason).not.toContain("Application.ReadWrite.All,");
      expect(role.fix).toContain("Grant admin consent");
    });

    it("passes a Cloud Application Administrator", async () => {
      emulator.knobs.preflight.userDirectoryRoleTemplateIds = [CLOUD_APPLICATION_ADMINISTRATOR];
      const report = await runAgainst(emulator, [], userCredential(emulator));
      expect(check(report, "directory-role")).toMatchObject({ status: "pass" });
      expect(check(report, "directory-role").reason).toContain("Cloud Application Administrator");
    });

    it("fails a person whose only role cannot grant consent", async () => {
      emulator.knobs.preflight.userDirectoryRoleTemplateIds = [GLOBAL_READER];
      const report = await runAgainst(emulator, [], userCredential(emulator));
      const role = check(report, "directory-role");
      expect(role.status).toBe("fail");
      expect(role.fix).toContain("Roles & admins > Cloud Application Administrator");
    });

    it("fails when the Office 365 Management APIs service principal is missing", async () => {
      emulator.knobs.preflight.o365ServicePrincipalPresent = false;
      const report = await runAgainst(emulator);
      const sp = check(report, "o365-service-principal");
      expect(sp.status).toBe("fail");
      expect(sp.fix).toContain("az ad sp create --id c5393580-f805-4401-95e8-94b7a6ef2fc2");
    });
  });
});
