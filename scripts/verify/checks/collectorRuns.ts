/**
 * Parts of check 7 for collectors without a workspace to query or without an endpoint: a
 * scheduled job's executions (read from Azure Resource Manager), and the delivery counters an
 * always-on collector reports on `/healthz`. Pure judges.
 */

import { describeGap, parseCronSchedule } from "../../../domain/cron";
import type { CheckStatus } from "../../common/output";
import type { JobRef } from "../inputs";
import type { HealthzProbe } from "../probes/healthz";
import type { JobAnswer } from "../probes/job";
import { formatAge, type Settled } from "./result";

/** A part of check 7's verdict, before it is merged into the check's one result. */
export interface PartVerdict {
  status: CheckStatus;
  reason: string;
  fix: string | null;
  details: Record<string, unknown>;
}

/** Replica timeout assumed when the job does not report one (the components' default). */
export const ASSUMED_REPLICA_TIMEOUT_SECONDS = 30 * 60;

const JOB_FLAGS =
  "pass --job-name, --resource-group and --subscription-id, or use --stack (outputs collectorJobName, resourceGroupName, azureSubscriptionId)";

function jobCommand(job: JobRef, rest: string): string {
  return `az containerapp job ${rest} -n ${job.name} -g ${job.resourceGroup} --subscription ${job.subscriptionId}`;
}

/** What an ARM error says, in one line and without anything secret. */
function describeArmError(error: unknown): { status: number | null; text: string } {
  const e = error as { statusCode?: unknown; code?: unknown; name?: unknown };
  const status = typeof e.statusCode === "number" ? e.statusCode : null;
  const code = typeof e.code === "string" ? e.code : null;
  if (status === null) {
    return {
      status,
      text: code
        ? `no answer from Azure Resource Manager (${code})`
        : "no answer from Azure Resource Manager",
    };
  }
  return { status, text: `Azure Resource Manager answered ${status}${code ? ` ${code}` : ""}` };
}

/**
 * Judges a scheduled job's executions: the last successful one must have ended within twice
 * the schedule's longest gap plus the replica timeout (one missed run, plus the longest a run
 * may take, is tolerated); a newer failed execution is a warning.
 */
export function judgeJobRuns(
  job: JobRef | null,
  answer: Settled<JobAnswer> | null,
  now: number,
): PartVerdict {
  if (!job || !answer) {
    return {
      status: "warn",
      reason: "the scheduled collector's job is not known, so its executions were not read",
      fix: JOB_FLAGS,
      details: {},
    };
  }
  const where = { job: job.name, resourceGroup: job.resourceGroup };
  if (!answer.ok) {
    const described = describeArmError(answer.error);
    if (described.status === 404) {
      return {
        status: "fail",
        reason: `the job ${job.name} was not found in ${job.resourceGroup} (${described.text})`,
        fix: `check the job's name and resource group (${JOB_FLAGS.replace("pass ", "")}), or run pulumi up with collectorMode scheduled`,
        details: where,
      };
    }
    if (described.status === 401 || described.status === 403) {
      return {
        status: "warn",
        reason: `the caller may not read the job ${job.name} (${described.text})`,
        fix: `give the caller Reader on the job (or its resource group), or read it yourself: ${jobCommand(job, "execution list")} -o table`,
        details: where,
      };
    }
    return {
      status: "fail",
      reason: `could not read the job ${job.name}: ${described.text}`,
      fix: "check network access to Azure Resource Manager (--arm-endpoint) and re-run",
      details: where,
    };
  }
  const value = answer.value;
  const schedule = value.cronExpression ? parseCronSchedule(value.cronExpression) : null;
  if (!schedule?.ok) {
    return {
      status: "fail",
      reason: `the job ${job.name} has no schedule verify can read (cron ${value.cronExpression ?? "missing"})`,
      fix: "redeploy it with pulumi up and collectorMode scheduled",
      details: where,
    };
  }
  const timeoutSeconds = value.replicaTimeoutSeconds ?? ASSUMED_REPLICA_TIMEOUT_SECONDS;
  const allowedMs = 2 * schedule.value.longestGapInMs + timeoutSeconds * 1000;
  const finishedAt = (e: { endMs: number | null; startMs: number | null }) => e.endMs ?? e.startMs;
  const succeeded = value.executions
    .filter((e) => e.status === "Succeeded" && finishedAt(e) !== null)
    .sort((a, b) => finishedAt(b)! - finishedAt(a)!);
  const latest = [...value.executions]
    .filter((e) => e.startMs !== null)
    .sort((a, b) => b.startMs! - a.startMs!)[0];
  const lastOk = succeeded[0];
  const iso = (ms: number | null | undefined) =>
    ms === null || ms === undefined ? null : new Date(ms).toISOString();
  const details = {
    ...where,
    cronExpression: schedule.value.expression,
    replicaTimeoutSeconds: timeoutSeconds,
    allowedMinutes: Math.round(allowedMs / 60_000),
    executions: value.executions.length,
    lastSucceeded: lastOk ? { name: lastOk.name, endTime: iso(finishedAt(lastOk)) } : null,
    latest: latest
      ? { name: latest.name, status: latest.status, startTime: iso(latest.startMs) }
      : null,
  };
  const cadence = `schedule ${schedule.value.expression}, every ${describeGap(schedule.value.longestGapInMs)} at most; allowed ${formatAge(allowedMs)}`;
  const logs = latest
    ? `${jobCommand(job, "logs show")} --container collector --execution ${latest.name}`
    : `${jobCommand(job, "execution list")} -o table`;
  if (!lastOk || now - finishedAt(lastOk)! > allowedMs) {
    const latestText = latest
      ? `latest: ${latest.name} ${latest.status}, started ${formatAge(now - latest.startMs!)} ago`
      : "the job has no executions yet";
    return {
      status: "fail",
      reason: `no successful execution of ${job.name} in the last ${formatAge(allowedMs)} (${latestText}; ${cadence})`,
      fix: latest
        ? `read why it fails: ${logs}; list them with ${jobCommand(job, "execution list")} -o table`
        : `start one now with ${jobCommand(job, "start")}, or wait for the schedule; then re-run verify`,
      details,
    };
  }
  const okText = `last successful execution of ${job.name} ended ${formatAge(now - finishedAt(lastOk)!)} ago (${cadence})`;
  if (latest && latest.status === "Failed" && latest.startMs! > finishedAt(lastOk)!) {
    return {
      status: "warn",
      reason: `${okText}; the latest execution ${latest.name} failed`,
      fix: `read why: ${logs}`,
      details,
    };
  }
  return { status: "pass", reason: okText, fix: null, details };
}

/**
 * Judges delivery to sinks verify cannot query (syslog, Splunk HEC) from an always-on
 * collector's `/healthz`: healthy, with records delivered since it started.
 */
export function judgeHealthzDelivery(
  healthz: HealthzProbe | null,
  sinks: readonly string[],
  now: number,
): PartVerdict {
  const to = sinks.join(", ");
  if (!healthz) {
    return {
      status: "skip",
      reason: `no --healthz-url, so the collector's deliveries to ${to} were not read`,
      fix: "pass --healthz-url http://<collector>:9464/healthz (or the stack output healthzUrl)",
      details: { sinks },
    };
  }
  if (!healthz.ok) {
    return {
      status: "fail",
      reason: healthz.text,
      fix: "read /healthz's cause and the collector's logs (is it running, throttled, or failing to deliver?)",
      details: { sinks, healthz: healthz.text },
    };
  }
  const delivery = healthz.delivery;
  if (!delivery) {
    return {
      status: "warn",
      reason: `${healthz.text}, but it reports no delivery counters`,
      fix: "update the collector image to this AuditBridge release, or check the SIEM for records",
      details: { sinks, healthz: healthz.text },
    };
  }
  const details = {
    sinks,
    healthz: healthz.text,
    recordsDelivered: delivery.recordsDelivered,
    since: new Date(delivery.sinceMs).toISOString(),
    lastDeliveryAt:
      delivery.lastDeliveryMs === null ? null : new Date(delivery.lastDeliveryMs).toISOString(),
  };
  if (delivery.recordsDelivered === 0) {
    return {
      status: "warn",
      reason: `the collector is healthy but delivered no records to ${delivery.sinks.join(", ")} since it started ${formatAge(now - delivery.sinceMs)} ago`,
      fix: "new audit content appears minutes to hours after the activity: generate some and re-run; check the collector's logs for sink errors",
      details,
    };
  }
  return {
    status: "pass",
    reason: `${delivery.recordsDelivered} records delivered to ${delivery.sinks.join(", ")} since the collector started ${formatAge(now - delivery.sinceMs)} ago, the last ${formatAge(now - (delivery.lastDeliveryMs ?? now))} ago (${healthz.text})`,
    fix: null,
    details,
  };
}
