/**
 * The verify runner: starts the probes (the app's token first, the Management API reads as soon
 * as it is known, Graph, the workspace and /healthz at once), hands what they found to the
 * checks' pure judges, and bounds the whole run by one deadline. No check ever throws out of it.
 */
import type { TokenCredential } from "@azure/identity";
import { buildReport, type VerifyReport } from "../common/output";
import { judgeAuditEnabled } from "./checks/auditEnabled";
import { CONTENT_LOOKBACK_IN_MS, type ContentOutcome, judgeContent } from "./checks/content";
import { judgeCredentialExpiry } from "./checks/credentialExpiry";
import { judgePermissions } from "./checks/permissions";
import { judgeRecords } from "./checks/records";
import { type CheckId, result, settle, type VerifyCheckResult } from "./checks/result";
import { judgeServiceHealth } from "./checks/serviceHealth";
import { judgeSubscriptions } from "./checks/subscriptions";
import { judgeToken } from "./checks/token";
import { type CallerCredential, createAppCredential, createCallerCredential } from "./credentials";
import type { VerifyConfig } from "./inputs";
import { readAuditSwitch } from "./probes/auditSwitch";
import { createGraphClient, type GraphReader } from "./probes/graph";
import { probeHealthz } from "./probes/healthz";
import { readJob } from "./probes/job";
import { createManagementClient, listContent, listSubscriptions } from "./probes/management";
import { probeToken } from "./probes/token";
import { queryWorkspace } from "./probes/workspace";

/** Options for {@link runChecks}. */
export interface RunChecksOptions {
  /** Clock; tests pin it. */
  nowMs?: () => number;
  /** Cancels the whole run (in addition to `config.timeoutInMs`). */
  abortSignal?: AbortSignal;
  /** Credentials; default: built from the config. */
  appCredential?: TokenCredential;
  callerCredential?: CallerCredential;
}

function timedOut(id: CheckId, config: VerifyConfig): VerifyCheckResult {
  return result(
    id,
    "fail",
    `did not finish within the ${config.timeoutInMs / 1000} s timeout`,
    `re-run with a larger --timeout, or check network access to the endpoints`,
  );
}

/**
 * Runs all checks and returns their results in check order. When the deadline passes,
 * unfinished checks report a timeout failure and in-flight requests are aborted.
 */
export async function runChecks(
  config: VerifyConfig,
  options: RunChecksOptions = {},
): Promise<VerifyCheckResult[]> {
  const nowMs = options.nowMs ?? Date.now;
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(options.abortSignal?.reason);
  options.abortSignal?.addEventListener("abort", onOuterAbort, { once: true });
  let deadlineTimer: NodeJS.Timeout | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    deadlineTimer = setTimeout(() => {
      resolve("timeout");
      controller.abort(new Error("verify timeout"));
    }, config.timeoutInMs);
  });
  const abortSignal = controller.signal;

  try {
    const appCredential = options.appCredential ?? createAppCredential(config);
    const caller = options.callerCredential ?? createCallerCredential(config, appCredential);
    const graph: GraphReader = createGraphClient({
      credential: caller.credential,
      endpoint: config.graphEndpoint,
      audience: config.graphAudience,
      tenantId: config.tenantId,
      abortSignal,
    });

    const tokenP = probeToken(config, appCredential, { abortSignal }).then((probe) =>
      judgeToken(config, probe, nowMs()),
    );
    const applicationP = settle(graph.application(config.clientId));
    const graphRolesP = settle(graph.managementRolesGranted(config.clientId));
    const healthP = settle(graph.healthOverviews());
    const setup = config.collector;
    // Collector none has no workspace of ours; sinks without Logs Ingestion write none.
    const queriesWorkspace = setup.kind !== "none" && setup.sinks.includes("logs-ingestion");
    const workspaceP =
      config.workspaceId && queriesWorkspace
        ? settle(queryWorkspace(config, caller.credential, { abortSignal }))
        : null;
    // A scheduled job has no endpoint: its executions, read from ARM, stand in for /healthz.
    const jobP =
      setup.kind === "scheduled" && setup.job
        ? settle(readJob(config, setup.job, caller.credential, { abortSignal }))
        : null;
    // The switch is read with the caller's credential, the one that reads Graph.
    const switchP = readAuditSwitch(config, caller.credential, { abortSignal });
    const healthzP =
      config.healthzUrl && setup.kind === "always-on"
        ? probeHealthz(config.healthzUrl, { abortSignal })
        : null;

    // The Management API reads wait for check 1: without a token they could only repeat its error.
    const clientP = tokenP.then((t) =>
      t.token ? createManagementClient(config, appCredential) : null,
    );
    const listP = clientP.then((client) =>
      client ? settle(listSubscriptions(client, { abortSignal })) : null,
    );
    const contentP = clientP.then((client): Promise<ContentOutcome[]> | null => {
      if (!client) return null;
      const end = nowMs();
      return Promise.all(
        config.contentTypes.map(async (contentType) => ({
          contentType,
          listing: await settle(
            listContent(client, contentType, end - CONTENT_LOOKBACK_IN_MS, end, { abortSignal }),
          ),
        })),
      );
    });

    const bounded = async (
      id: CheckId,
      run: () => Promise<VerifyCheckResult>,
    ): Promise<VerifyCheckResult> => {
      const guarded = run().catch((error: unknown) =>
        result(
          id,
          "fail",
          `verify itself failed in this check (${error instanceof Error ? error.name : "error"})`,
          "report this as an AuditBridge bug with the --json output",
        ),
      );
      const outcome = await Promise.race([guarded, deadline]);
      return outcome === "timeout" ? timedOut(id, config) : outcome;
    };

    return await Promise.all([
      bounded("token", async () => (await tokenP).result),
      bounded("permissions", async () => judgePermissions(config, await tokenP, await graphRolesP)),
      bounded("credential-expiry", async () =>
        judgeCredentialExpiry(config, await tokenP, await applicationP, nowMs()),
      ),
      bounded("audit-enabled", async () =>
        judgeAuditEnabled(config, await listP, await contentP, await switchP),
      ),
      bounded("subscriptions", async () => judgeSubscriptions(config, await listP, await contentP)),
      bounded("content", async () => judgeContent(config, await contentP, nowMs())),
      bounded("records", async () =>
        judgeRecords(
          config,
          workspaceP ? await workspaceP : null,
          await contentP,
          healthzP ? await healthzP : null,
          nowMs(),
          jobP ? await jobP : null,
        ),
      ),
      bounded("service-health", async () => judgeServiceHealth(await healthP)),
    ]);
  } finally {
    clearTimeout(deadlineTimer);
    controller.abort();
    options.abortSignal?.removeEventListener("abort", onOuterAbort);
  }
}

/** Options for {@link verify}. */
export interface VerifyRunOptions {
  abortSignal?: AbortSignal;
  nowMs?: () => number;
}

/** Runs every check for a validated config and returns the report (never throws for a check). */
export async function verify(
  config: VerifyConfig,
  options: VerifyRunOptions = {},
): Promise<VerifyReport> {
  const now = options.nowMs ?? Date.now;
  const startedAt = now();
  const checks = await runChecks(config, options);
  return buildReport(config, checks, startedAt, now());
}
