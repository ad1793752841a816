import { afterEach, describe, expect, it } from "vitest";
import { cleanEnv, exitCodeOf, killStragglers, spawnCollector } from "./harness";

afterEach(killStragglers);

const GOOD = {
  AZURE_TENANT_ID: "9b1c6a3e-2f4d-4e8a-9c1b-7d2e3f4a5b6c",
  AZURE_CLIENT_ID: "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
  AZURE_CLIENT_SECRET: "cli-test-secret~never-printed",
};

/** [what, environment overrides (undefined removes), extra args, expected stderr line] */
const BAD: [string, Record<string, string | undefined>, string[], RegExp][] = [
  [
    "a tenant domain instead of the tenant GUID",
    { AZURE_TENANT_ID: "contoso.com" },
    [],
    /^auditbridge-collector: configuration error: AZURE_TENANT_ID must be a GUID \(got "contoso.com"\): use the Directory \(tenant\) ID/,
  ],
  [
    "no credential",
    { AZURE_CLIENT_SECRET: undefined },
    [],
    /^auditbridge-collector: configuration error: No app credential: set exactly one of/,
  ],
  [
    "a bad flag value",
    {},
    ["--poll-interval", "often"],
    /^auditbridge-collector: configuration error: --poll-interval must be a duration like 60s/,
  ],
  [
    "logs-ingestion without its endpoint",
    { AUDIT_SINK: "logs-ingestion" },
    [],
    /^auditbridge-collector: configuration error: AUDIT_SINK=logs-ingestion needs LOGS_INGESTION_ENDPOINT and LOGS_INGESTION_RULE_ID/,
  ],
  [
    "an unknown flag",
    {},
    ["--tenant", "x"],
    /^auditbridge-collector: error: unknown option '--tenant' \(Did you mean --tenant-id\?\) \(see --help\)$/,
  ],
];

describe("collector CLI usage", () => {
  it.each(BAD)("exits 2 with one line for %s", async (_what, overrides, args, expected) => {
    const env: NodeJS.ProcessEnv = { ...cleanEnv(), ...GOOD, ...overrides };
    for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete env[key];
    const collector = spawnCollector(["run", "--once", ...args], env);
    await exitCodeOf(collector, 2);
    const lines = collector.plain;
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(expected);
    expect(collector.logs).toEqual([]);
    expect(lines[0]).not.toContain(GOOD.AZURE_CLIENT_SECRET);
    expect(lines[0]).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it("prints help that starts with an example and exits 0", async () => {
    const collector = spawnCollector(["run", "--help"], cleanEnv());
    await exitCodeOf(collector, 0);
    const help = collector.stdout();
    expect(help.startsWith("Example:\n  AZURE_TENANT_ID=")).toBe(true);
    expect(help).toContain("--once");
    expect(help).toContain("--poll-interval <value>");
    expect(help).toContain("[AUDIT_POLL_INTERVAL]");
    expect(help).toContain(
      "Exit codes: 0 done or stopped by SIGTERM, 1 could not complete, 2 bad configuration.",
    );
  });

  it("answers a missing command with usage and exit 2", async () => {
    const collector = spawnCollector([], cleanEnv());
    await exitCodeOf(collector, 2);
  });
});
