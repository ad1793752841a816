import { afterEach, describe, expect, it } from "vitest";
import { parseSettings, SETTING_PARSERS, SETTINGS } from "../../../collector/src/settings";
import {
  COLLECTOR_ENV,
  ENV_KEYS,
  type EnvKey,
  FLAG_FOR_ENV,
  flagSpelling,
  SECRET_KEYS,
} from "../../../domain/collectorEnv";
import { cleanEnv, exitCodeOf, killStragglers, spawnCollector } from "./harness";

afterEach(killStragglers);

/** Flags that belong to the `run` command itself, not to a setting. */
const COMMAND_FLAGS = ["--once", "--help"];

describe("the settings table", () => {
  it("derives ENV_KEYS, SECRET_KEYS and FLAG_FOR_ENV from its rows, in order", () => {
    expect(ENV_KEYS).toEqual(COLLECTOR_ENV.map((row) => row.env));
    expect([...SECRET_KEYS]).toEqual(
      COLLECTOR_ENV.filter((row) => row.secret).map((row) => row.env),
    );
    expect(Object.keys(FLAG_FOR_ENV)).toEqual(
      COLLECTOR_ENV.filter((row) => !row.secret).map((row) => row.env),
    );
    expect(SETTINGS.map((setting) => setting.env)).toEqual(ENV_KEYS);
    expect(Object.keys(SETTING_PARSERS).sort()).toEqual([...ENV_KEYS].sort());
  });

  it("gives every non-secret setting a flag of its own and no secret a flag", () => {
    for (const row of COLLECTOR_ENV) {
      expect("flag" in row).toBe(!row.secret);
    }
    const spellings = Object.values(FLAG_FOR_ENV).map((flag) => flagSpelling(flag));
    expect(new Set(spellings).size).toBe(spellings.length);
    expect(flagSpelling("logsIngestionRuleId")).toBe("--logs-ingestion-rule-id");
  });

  it("keeps the contract's secrets", () => {
    expect([...SECRET_KEYS].sort()).toEqual(
      [
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_CLIENT_SECRET",
        "AZURE_STORAGE_CONNECTION_STRING",
        "SPLUNK_HEC_TOKEN",
      ].sort(),
    );
  });

  it("applies each row's default when its setting is unset and reports nothing", () => {
    const parsed = parseSettings({}, (key) => key);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    for (const setting of SETTINGS) {
      const value = parsed.values[setting.env];
      if (setting.defaultValue) expect(value).toEqual(setting.defaultValue());
      else expect(value).toBeUndefined();
    }
    expect(parsed.values.AUDIT_HTTP_PORT).toBe(9464);
    expect(parsed.values.AUDIT_SINK).toEqual(["file"]);
  });

  it("names the setting as the caller spells it in every problem, one per bad value", () => {
    const parsed = parseSettings(
      { AUDIT_HTTP_PORT: "x", AUDIT_LOG_LEVEL: "loud", AZURE_TENANT_ID: "contoso.com" },
      (key: EnvKey) => `<${key}>`,
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems).toHaveLength(3);
    expect(parsed.problems[0]).toMatch(/^<AZURE_TENANT_ID> must be a GUID/);
    expect(parsed.problems[1]).toMatch(/^<AUDIT_HTTP_PORT> must be a TCP port/);
    expect(parsed.problems[2]).toMatch(/^<AUDIT_LOG_LEVEL> must be one of/);
  });
});

describe("run --help", () => {
  it("lists exactly the table's flags, each with its variable, plus --once and --help", async () => {
    const collector = spawnCollector(["run", "--help"], cleanEnv());
    await exitCodeOf(collector, 0);
    const help = collector.stdout();
    const options = help.slice(
      help.indexOf("Options:"),
      help.indexOf("\n\n", help.indexOf("Options:")),
    );
    const listed = [...options.matchAll(/^\s+(?:-\w, )?(--[a-z-]+)/gm)].map((match) => match[1]);
    const fromTable = Object.values(FLAG_FOR_ENV).map((flag) => flagSpelling(flag));
    expect([...listed].sort()).toEqual([...fromTable, ...COMMAND_FLAGS].sort());
    for (const [env, flag] of Object.entries(FLAG_FOR_ENV)) {
      expect(options).toMatch(new RegExp(`${flagSpelling(flag)} <value>\\s+.*\\[${env}\\]`));
    }
    for (const secret of SECRET_KEYS) {
      expect(options).not.toContain(`[${secret}]`);
      expect(help).toContain(secret);
    }
  }, 30_000);
});
