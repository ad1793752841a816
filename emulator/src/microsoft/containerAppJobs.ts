/**
 * Azure Container Apps jobs as Azure Resource Manager serves them: the job resource and its
 * executions, the two reads `npm run verify` makes for a scheduled collector.
 * - Jobs - Get: https://learn.microsoft.com/en-us/rest/api/containerapps/jobs/get
 * - Jobs Executions - List: https://learn.microsoft.com/en-us/rest/api/containerapps/jobs-executions/list
 * - Jobs overview (schedule triggers, replica timeout): https://learn.microsoft.com/en-us/azure/container-apps/jobs
 */

/** Resource type of a job. */
export const JOB_RESOURCE_TYPE = "Microsoft.App/jobs";

/** Resource type of one execution in the executions listing. */
export const JOB_EXECUTION_RESOURCE_TYPE = "Microsoft.App/jobs/executions";

/**
 * `properties.status` of an execution (JobExecutionRunningState in the REST reference):
 * https://learn.microsoft.com/en-us/rest/api/containerapps/jobs-executions/list#jobexecutionrunningstate
 */
export const JOB_EXECUTION_STATES = [
  "Running",
  "Processing",
  "Stopped",
  "Degraded",
  "Failed",
  "Unknown",
  "Succeeded",
] as const;
export type JobExecutionState = (typeof JOB_EXECUTION_STATES)[number];

/** `properties.configuration.triggerType` of a job on a cron schedule. */
export const SCHEDULE_TRIGGER_TYPE = "Schedule";
