import path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { installMocks, type Recorder, settle } from "./mocks";
import { cliConfigFor, readProject } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");

let recorder: Recorder;
let failure: unknown;

beforeAll(async () => {
  const project = readProject(ROOT);
  pulumi.runtime.setAllConfig(
    { ...cliConfigFor(project, "example"), "auditbridge:secretLifetimeDays": "900" },
    [],
  );
  recorder = await installMocks("example", project.name);
  try {
    await import(path.resolve(ROOT, project.main));
  } catch (error) {
    failure = error;
  }
  await settle();
});

describe("the program with a bad config value", () => {
  it("stops with Pulumi's RunError carrying one line that names the key and the fix", () => {
    expect(failure).toBeInstanceOf(pulumi.RunError);
    expect((failure as Error).message).toBe(
      "auditbridge:secretLifetimeDays must be a whole number between 1 and 730 (got 900): set it with pulumi config set auditbridge:secretLifetimeDays 180",
    );
  });

  it("stops before declaring any resource", () => {
    expect(recorder.resources).toEqual([]);
  });
});
