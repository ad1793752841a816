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
    {
      ...cliConfigFor(project, "example"),
      "auditbridge:cloud": "dod",
      // Read from the stack's azure-native config, as the provider itself reads it.
      "azure-native:environment": "china",
    },
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

describe("the program for a DoD tenant with the provider outside Azure Government", () => {
  it("stops with one line naming the provider key and the fix", () => {
    expect(failure).toBeInstanceOf(pulumi.RunError);
    expect((failure as Error).message).toBe(
      "auditbridge:cloud dod deploys to Azure Government but azure-native:environment is china: set it with pulumi config set azure-native:environment usgovernment",
    );
  });

  it("stops before declaring any resource", () => {
    expect(recorder.resources).toEqual([]);
  });
});
