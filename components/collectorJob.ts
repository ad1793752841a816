/**
 * The scheduled collector: a Container Apps Job that runs `run --once` on a cron schedule,
 * one replica per execution, with the same identity, Key Vault secret references, registry,
 * environment variables and volumes as the always-on Container App. Two executions never
 * collect at once: the checkpoint's blob lease admits one, and an execution that finds it held
 * exits 0 without collecting (docs/collector.md).
 * https://learn.microsoft.com/azure/container-apps/jobs
 */
import * as app from "@pulumi/azure-native/app";
import type { app as appInput } from "@pulumi/azure-native/types/input";
import type * as pulumi from "@pulumi/pulumi";
import { describeGap, parseCronSchedule } from "../domain/cron";

/**
 * What the job's container runs after the image's ENTRYPOINT (tini): the image's CMD with
 * `--once` (collector/Dockerfile; a test keeps the two in step). Container Apps `args` replace
 * CMD and keep ENTRYPOINT.
 * https://learn.microsoft.com/azure/container-apps/containers#configuration
 */
export const COLLECTOR_RUN_ONCE_ARGS: readonly string[] = [
  "/bin/sh",
  "-c",
  'exec node $(node bin/collector/src/nodeFlags.js) bin/collector/src/main.js "$@"',
  "collector",
  "run",
  "--once",
];

/**
 * Shortest replica timeout: 30 minutes. After an outage one execution catches up days of
 * content; it keeps the lease meanwhile, so the executions the schedule starts in between exit
 * at once, and nothing overlaps. A timeout only bounds an execution that hangs, and the
 * checkpoint keeps every batch it committed, so the next execution continues from there.
 */
export const MIN_DEFAULT_REPLICA_TIMEOUT_SECONDS = 30 * 60;
/** Accepted replica timeouts: 5 minutes (time to start, sign in and list) to 1 day. */
export const MIN_REPLICA_TIMEOUT_SECONDS = 5 * 60;
export const MAX_REPLICA_TIMEOUT_SECONDS = 24 * 60 * 60;
/**
 * One immediate retry of a failed replica (exit 1: could not complete, e.g. a network blip);
 * the schedule retries after that anyway.
 */
export const JOB_REPLICA_RETRY_LIMIT = 1;

/**
 * Default replica timeout for a schedule: the longer of 30 minutes and the longest gap between
 * runs, so a daily schedule's execution has the day to work through its day of content.
 */
export function defaultReplicaTimeoutSeconds(cronExpression: string): number {
  const parsed = parseCronSchedule(cronExpression);
  const longest = parsed.ok ? Math.ceil(parsed.value.longestGapInMs / 1000) : 0;
  return Math.min(
    MAX_REPLICA_TIMEOUT_SECONDS,
    Math.max(MIN_DEFAULT_REPLICA_TIMEOUT_SECONDS, longest),
  );
}

/** The problem with a job's schedule or timeout, in one line, or undefined. */
export function collectorJobProblem(mode: {
  cronExpression: string;
  replicaTimeoutSeconds?: number;
}): { arg: string; problem: string } | undefined {
  const parsed = parseCronSchedule(mode.cronExpression);
  if (!parsed.ok) return { arg: "mode.cronExpression", problem: parsed.problem };
  const timeout = mode.replicaTimeoutSeconds;
  if (
    timeout !== undefined &&
    !(
      Number.isInteger(timeout) &&
      timeout >= MIN_REPLICA_TIMEOUT_SECONDS &&
      timeout <= MAX_REPLICA_TIMEOUT_SECONDS
    )
  ) {
    return {
      arg: "mode.replicaTimeoutSeconds",
      problem: `must be a whole number of seconds from ${MIN_REPLICA_TIMEOUT_SECONDS} (${describeGap(MIN_REPLICA_TIMEOUT_SECONDS * 1000)}) to ${MAX_REPLICA_TIMEOUT_SECONDS} (${describeGap(MAX_REPLICA_TIMEOUT_SECONDS * 1000)})`,
    };
  }
  return undefined;
}

/** Everything the job shares with the always-on app, plus its schedule. */
export interface CollectorJobArgs {
  resourceGroupName: pulumi.Input<string>;
  location: pulumi.Input<string>;
  jobName: string;
  environmentId: pulumi.Input<string>;
  /** Resource id of the user-assigned identity the job runs as. */
  identityId: pulumi.Input<string>;
  /** The collector container (image, size, environment variables, volume mounts; no probes). */
  container: appInput.ContainerArgs;
  secrets: pulumi.Input<appInput.SecretArgs>[];
  registries: pulumi.Input<appInput.RegistryCredentialsArgs>[];
  volumes: pulumi.Input<appInput.VolumeArgs>[];
  /** Five-field cron expression, UTC (checked by the caller with {@link collectorJobProblem}). */
  cronExpression: string;
  /** Default {@link defaultReplicaTimeoutSeconds}. */
  replicaTimeoutSeconds?: number;
  tags?: Readonly<Record<string, string>>;
}

/** Creates the scheduled Container Apps Job; `opts` carries its parent and dependsOn. */
export function collectorJob(
  name: string,
  args: CollectorJobArgs,
  opts: pulumi.CustomResourceOptions,
): app.Job {
  return new app.Job(
    `${name}-job`,
    {
      resourceGroupName: args.resourceGroupName,
      jobName: args.jobName,
      location: args.location,
      environmentId: args.environmentId,
      identity: { type: "UserAssigned", userAssignedIdentities: [args.identityId] },
      configuration: {
        triggerType: "Schedule",
        scheduleTriggerConfig: {
          cronExpression: args.cronExpression,
          // One replica per execution: one writer per tenant checkpoint.
          parallelism: 1,
          replicaCompletionCount: 1,
        },
        replicaTimeout:
          args.replicaTimeoutSeconds ?? defaultReplicaTimeoutSeconds(args.cronExpression),
        replicaRetryLimit: JOB_REPLICA_RETRY_LIMIT,
        secrets: args.secrets,
        registries: args.registries,
      },
      template: {
        containers: [{ ...args.container, args: [...COLLECTOR_RUN_ONCE_ARGS] }],
        volumes: args.volumes,
      },
      ...(args.tags ? { tags: { ...args.tags } } : {}),
    },
    opts,
  );
}
