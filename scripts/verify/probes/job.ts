/**
 * Probe of check 7 for a scheduled collector: the Container Apps Job's schedule and replica
 * timeout (Jobs - Get) and its executions (Jobs Executions - List), read from Azure Resource
 * Manager with the caller's credential through the Azure SDK.
 * https://learn.microsoft.com/en-us/rest/api/containerapps/jobs-executions/list
 */
import { ContainerAppsAPIClient } from "@azure/arm-appcontainers";
import type { TokenCredential } from "@azure/identity";
import type { JobRef, VerifyConfig } from "../inputs";

/** One execution, times in epoch ms. */
export interface JobExecutionSummary {
  name: string;
  /** Running, Processing, Succeeded, Failed, Stopped, Degraded or Unknown. */
  status: string;
  startMs: number | null;
  endMs: number | null;
}

/** What the job answered: its schedule, its replica timeout and every listed execution. */
export interface JobAnswer {
  job: JobRef;
  cronExpression: string | null;
  replicaTimeoutSeconds: number | null;
  executions: JobExecutionSummary[];
}

/** Options of the job probe. */
export interface ReadJobOptions {
  abortSignal?: AbortSignal;
}

const toMs = (value: Date | undefined): number | null =>
  value instanceof Date && Number.isFinite(value.getTime()) ? value.getTime() : null;

/** Reads the job and all its executions (the SDK follows `nextLink`). */
export async function readJob(
  config: VerifyConfig,
  job: JobRef,
  credential: TokenCredential,
  options: ReadJobOptions = {},
): Promise<JobAnswer> {
  const client = new ContainerAppsAPIClient(credential, job.subscriptionId, {
    endpoint: config.armEndpoint,
    credentialScopes: [config.armScope],
    retryOptions: { maxRetries: 1 },
  });
  const { abortSignal } = options;
  const resource = await client.jobs.get(job.resourceGroup, job.name, { abortSignal });
  const executions: JobExecutionSummary[] = [];
  for await (const execution of client.jobsExecutions.list(job.resourceGroup, job.name, {
    abortSignal,
  })) {
    executions.push({
      name: execution.name ?? "",
      status: execution.status ?? "Unknown",
      startMs: toMs(execution.startTime),
      endMs: toMs(execution.endTime),
    });
  }
  return {
    job,
    cronExpression: resource.configuration?.scheduleTriggerConfig?.cronExpression ?? null,
    replicaTimeoutSeconds: resource.configuration?.replicaTimeout ?? null,
    executions,
  };
}
