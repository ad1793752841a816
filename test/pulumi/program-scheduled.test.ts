/**
 * The whole program with the example stack switched to collectorMode scheduled: a Container
 * Apps Job replaces the Container App, and the stack outputs name it.
 */
import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { type Recorder, runProgram } from "./mocks";
import { cliConfigFor, readProject } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");
const APP = "azure-native:app:ContainerApp";
const JOB = "azure-native:app:Job";

let recorder: Recorder;
let outputs: Record<string, string>;

beforeAll(async () => {
  const project = readProject(ROOT);
  pulumi.runtime.setAllConfig(
    {
      ...cliConfigFor(project, "example"),
      "auditbridge:collectorMode": "scheduled",
      "auditbridge:collectorSchedule": "*/10  * * * *",
    },
    [],
  );
  ({ recorder, outputs } = await runProgram(path.resolve(ROOT, project.main), project.name));
});

describe("the program with collectorMode scheduled", () => {
  it("creates the collector as a Container Apps Job on the stack's schedule, and no Container App", () => {
    expect(recorder.ofType(APP)).toEqual([]);
    const job = recorder.one(JOB);
    expect(job.inputs.jobName).toBe("caj-contoso-collector");
    expect(job.inputs.configuration).toMatchObject({
      triggerType: "Schedule",
      scheduleTriggerConfig: { cronExpression: "*/10 * * * *", parallelism: 1 },
      replicaTimeout: 1800,
    });
    // Created after the grants have had time to take effect, like the app.
    expect(job.options.dependsOn).toContain(
      recorder.one("time:index/sleep:Sleep", "tenant-collector-role-propagation").name,
    );
    expect(job.options.dependsOn).toContain(
      recorder.one("azure-native:authorization:RoleAssignment", "tenant-destination-publisher")
        .name,
    );
  });

  it("exports the job's name and an empty app name", () => {
    expect(outputs).toMatchObject({
      collectorAppName: "",
      collectorJobName: "caj-contoso-collector",
      collectorMode: "scheduled",
    });
  });
});
