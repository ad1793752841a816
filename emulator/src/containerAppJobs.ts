/**
 * Emulated Container Apps jobs under Azure Resource Manager: `GET …/Microsoft.App/jobs/{name}`
 * and `GET …/jobs/{name}/executions`, shaped as Microsoft's REST reference documents them
 * (emulator/src/microsoft/containerAppJobs.ts). Which jobs exist, their schedule and their
 * executions are knobs. The order of the executions listing is not documented, so it is a knob
 * too.
 */
import {
  JOB_EXECUTION_RESOURCE_TYPE,
  JOB_EXECUTION_STATES,
  JOB_RESOURCE_TYPE,
  type JobExecutionState,
  SCHEDULE_TRIGGER_TYPE,
} from "./microsoft/containerAppJobs";

/** One execution of an emulated job. */
export interface JobExecutionKnob {
  /** Execution name; default `<job>-<index>`. */
  name?: string;
  status: JobExecutionState;
  /** Epoch ms. */
  startTimeMs: number;
  /** Epoch ms; absent while it runs. */
  endTimeMs?: number;
}

/** A scheduled Container Apps Job in the emulated subscription. */
export interface ContainerAppJobKnob {
  /** Resource group (must be one of `knobs.preflight.resourceGroups`). */
  resourceGroup: string;
  name: string;
  cronExpression: string;
  replicaTimeoutSeconds: number;
  /** Executions, in any order; the listing shows them in `executionOrder`. */
  executions: JobExecutionKnob[];
  /** Order of the listing: Microsoft does not document it (default newest-first). */
  executionOrder?: "newest-first" | "oldest-first";
}

function jobId(subscriptionId: string, job: ContainerAppJobKnob): string {
  return `/subscriptions/${subscriptionId}/resourceGroups/${job.resourceGroup}/providers/${JOB_RESOURCE_TYPE}/${job.name}`;
}

/** The job resource as `Jobs - Get` returns it. */
export function jobResource(subscriptionId: string, job: ContainerAppJobKnob): object {
  return {
    id: jobId(subscriptionId, job),
    name: job.name,
    type: JOB_RESOURCE_TYPE,
    location: "West Europe",
    properties: {
      provisioningState: "Succeeded",
      environmentId: `/subscriptions/${subscriptionId}/resourceGroups/${job.resourceGroup}/providers/Microsoft.App/managedEnvironments/cae-emulated`,
      configuration: {
        triggerType: SCHEDULE_TRIGGER_TYPE,
        replicaTimeout: job.replicaTimeoutSeconds,
        replicaRetryLimit: 1,
        scheduleTriggerConfig: {
          cronExpression: job.cronExpression,
          parallelism: 1,
          replicaCompletionCount: 1,
        },
      },
      template: { containers: [{ name: "collector", image: "auditbridge-collector:emulated" }] },
    },
  };
}

/** The executions listing as `Jobs Executions - List` returns it (one page). */
export function jobExecutions(subscriptionId: string, job: ContainerAppJobKnob): object {
  const ordered = [...job.executions].sort((a, b) =>
    job.executionOrder === "oldest-first"
      ? a.startTimeMs - b.startTimeMs
      : b.startTimeMs - a.startTimeMs,
  );
  return {
    value: ordered.map((execution) => {
      const name = execution.name ?? `${job.name}-${job.executions.indexOf(execution)}`;
      return {
        id: `${jobId(subscriptionId, job)}/executions/${name}`,
        name,
        type: JOB_EXECUTION_RESOURCE_TYPE,
        properties: {
          status: execution.status,
          startTime: new Date(execution.startTimeMs).toISOString(),
          ...(execution.endTimeMs !== undefined
            ? { endTime: new Date(execution.endTimeMs).toISOString() }
            : {}),
          template: {
            containers: [{ name: "collector", image: "auditbridge-collector:emulated" }],
          },
        },
      };
    }),
  };
}

/** Checks the job knobs; throws a one-line error naming the bad one. */
export function validateJobKnobs(jobs: readonly ContainerAppJobKnob[]): void {
  if (!Array.isArray(jobs)) throw new Error("knobs.containerAppJobs must be an array");
  for (const job of jobs) {
    if (typeof job.name !== "string" || !/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/.test(job.name)) {
      throw new Error(
        `knobs.containerAppJobs: "${String(job.name)}" is not a job name (lowercase letters, digits and -, 2-32 characters)`,
      );
    }
    if (!Array.isArray(job.executions)) {
      throw new Error(`knobs.containerAppJobs[${job.name}].executions must be an array`);
    }
    for (const execution of job.executions) {
      if (!(JOB_EXECUTION_STATES as readonly string[]).includes(execution.status)) {
        throw new Error(
          `knobs.containerAppJobs[${job.name}]: execution status "${String(execution.status)}" is not one of ${JOB_EXECUTION_STATES.join(", ")}`,
        );
      }
      if (!Number.isFinite(execution.startTimeMs)) {
        throw new Error(`knobs.containerAppJobs[${job.name}]: startTimeMs must be epoch ms`);
      }
    }
  }
}
