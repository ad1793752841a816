/**
 * Runs every preflight check for a validated config: sign-in first, then the Azure reads and the
 * Graph reads in parallel, the whole run bounded by `--timeout`. Read-only: every call is a GET.
 * A check about something the stack does not deploy (scope.ts) is skipped without a request.
 * Never throws for a check; each returns a {@link PreflightCheckResult}.
 */
import type { TokenCredential } from "@azure/identity";
import { createArmClients, createCallerCredential, createGraphClient } from "./azure";
import { judgeDirectory, probeDirectory } from "./checks/directory";
import { judgeKeyVaultName, probeDeletedVaults } from "./checks/keyVault";
import {
  judgeO365ServicePrincipal,
  probeO365ServicePrincipal,
} from "./checks/o365ServicePrincipal";
import { judgeContainerAppsLocation, judgeProviders, probeProviders } from "./checks/providers";
import { judgeRegistry, probeRegistry } from "./checks/registry";
import {
  judgeResourceGroup,
  judgeResourceGroupPermissions,
  probeResourceGroup,
  probeResourceGroupPermissions,
} from "./checks/resourceGroup";
import { judgeSignIn, probeSignIn } from "./checks/signIn";
import { judgeWorkspace, probeWorkspace } from "./checks/workspace";
import type { PreflightConfig } from "./inputs";
import {
  PREFLIGHT_CHECK_IDS,
  PREFLIGHT_CHECK_TITLES,
  type PreflightCheckId,
  type PreflightCheckResult,
  skip,
  type Verdict,
} from "./result";
import { notDeployed } from "./scope";

/** Options for {@link runPreflightChecks}. */
export interface RunPreflightOptions {
  /** The caller's credential; default `DefaultAzureCredential` for the config. */
  credential?: TokenCredential;
  abortSignal?: AbortSignal;
}

/** Runs the checks and returns their results in {@link PREFLIGHT_CHECK_IDS} order. */
export async function runPreflightChecks(
  config: PreflightConfig,
  options: RunPreflightOptions = {},
): Promise<PreflightCheckResult[]> {
  const credential = options.credential ?? createCallerCredential(config);
  const signals = [AbortSignal.timeout(config.timeoutMs)];
  if (options.abortSignal) signals.push(options.abortSignal);
  const abortSignal = AbortSignal.any(signals);
  const verdicts = new Map<PreflightCheckId, Verdict>();
  const skipped = notDeployed(config);
  const applies = (id: PreflightCheckId): boolean => skipped[id] === undefined;

  const signIn = await probeSignIn(config, credential, abortSignal);
  verdicts.set("sign-in", judgeSignIn(config, signIn));
  const callerId =
    (signIn.arm.ok ? signIn.arm.claims.oid : undefined) ??
    (signIn.graph.ok ? signIn.graph.claims.oid : undefined) ??
    "<your-object-id>";

  const azure = async () => {
    const noToken = skip("no Azure Resource Manager token (see the sign-in check)");
    if (!signIn.arm.ok) {
      for (const id of [
        "resource-group",
        "rg-permissions",
        "providers",
        "container-apps-location",
        "key-vault-name",
        "workspace",
        "registry",
      ] as const) {
        verdicts.set(id, noToken);
      }
      return;
    }
    const clients = createArmClients(config, credential);
    const group = async () => {
      const probe = await probeResourceGroup(config, clients, abortSignal);
      verdicts.set("resource-group", judgeResourceGroup(config, probe));
      if (probe.kind !== "found") {
        verdicts.set("rg-permissions", skip("the resource group is not readable (see its check)"));
        return;
      }
      const permissions = await probeResourceGroupPermissions(config, clients, abortSignal);
      verdicts.set("rg-permissions", judgeResourceGroupPermissions(config, permissions, callerId));
    };
    const providers = async () => {
      const probes = await probeProviders(config, clients, abortSignal);
      verdicts.set("providers", judgeProviders(config, probes));
      if (applies("container-apps-location")) {
        verdicts.set("container-apps-location", judgeContainerAppsLocation(config, probes));
      }
    };
    const vault = async () => {
      verdicts.set(
        "key-vault-name",
        judgeKeyVaultName(config, await probeDeletedVaults(clients, abortSignal)),
      );
    };
    const workspace = async () => {
      if (!applies("workspace")) return;
      const probe = await probeWorkspace(config, credential, abortSignal);
      verdicts.set("workspace", judgeWorkspace(config, probe, callerId));
    };
    const registry = async () => {
      if (!applies("registry")) return;
      const probe = await probeRegistry(config, credential, abortSignal);
      verdicts.set("registry", judgeRegistry(config, probe, callerId));
    };
    await Promise.all([group(), providers(), vault(), workspace(), registry()]);
  };

  const directory = async () => {
    const graph = createGraphClient(config, credential);
    const [roles, sp] = await Promise.all([
      probeDirectory(graph, signIn.graph, abortSignal),
      probeO365ServicePrincipal(graph, signIn.graph, abortSignal),
    ]);
    verdicts.set("directory-role", judgeDirectory(config, roles));
    verdicts.set("o365-service-principal", judgeO365ServicePrincipal(config, sp));
  };

  await Promise.all([azure(), directory()]);

  return PREFLIGHT_CHECK_IDS.map((id, index) => {
    const reason = skipped[id];
    const verdict = reason !== undefined ? skip(reason) : (verdicts.get(id) ?? skip("not run"));
    return { id, number: index + 1, title: PREFLIGHT_CHECK_TITLES[id], ...verdict };
  });
}
