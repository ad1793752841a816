import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { cliConfigFor, readProject } from "./pulumiProject";

const ROOT = path.resolve(__dirname, "..", "..");
const run = promisify(execFile);

interface RunResult {
  secretExpiresAt: string;
  passwords: { name: string; inputs: Record<string, unknown> }[];
  attributes: unknown;
}

/** One `pulumi up` of the example stack: a fresh process, config through PULUMI_CONFIG. */
async function deploy(): Promise<RunResult> {
  const project = readProject(ROOT);
  const { stdout } = await run(
    process.execPath,
    ["--import", "tsx", path.join(__dirname, "fixtures", "runProgram.ts"), project.main, "example"],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PULUMI_CONFIG: JSON.stringify(cliConfigFor(project, "example")),
        PULUMI_CONFIG_SECRET_KEYS: "[]",
      },
      timeout: 60_000,
    },
  );
  return JSON.parse(stdout) as RunResult;
}

let first: RunResult;
let second: RunResult;

beforeAll(async () => {
  first = await deploy();
  second = await deploy();
}, 120_000);

describe("a second pulumi up with unchanged config", () => {
  it("sends identical password inputs, so no client secret is replaced", () => {
    expect(first.passwords.length).toBeGreaterThan(0);
    expect(second.passwords).toEqual(first.passwords);
    for (const p of first.passwords) {
      expect(p.inputs.endDate).toMatch(/^\d{4}-\d{2}-\d{2}T00:00:00Z$/);
    }
  });

  it("keeps the same secret end date and Key Vault expiry", () => {
    expect(second.secretExpiresAt).toBe(first.secretExpiresAt);
    expect(second.attributes).toEqual(first.attributes);
    expect(first.attributes).toEqual({ expires: Date.parse(first.secretExpiresAt) / 1000 });
  });
});
