/**
 * There is no Docker engine here, so the image's contract is tested piece by piece: the
 * Dockerfile's shape, the compile step it runs, and the exact CMD and HEALTHCHECK commands,
 * executed against the emulator from a directory laid out like the image's /app.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COLLECTOR_NODE_FLAGS } from "../../../collector/src/nodeFlags";
import { type Emulator, startEmulator } from "../../../emulator/src/index";
import {
  exitCodeOf,
  idsInFile,
  killStragglers,
  REPO,
  sorted,
  spawnCollector,
  workspace,
} from "./harness";

const run = promisify(execFile);
const DOCKERFILE = readFileSync(path.join(REPO, "collector", "Dockerfile"), "utf8");
/** Laid out like the image's WORKDIR /app: bin/collector/... (node_modules resolve from the repo). */
const APP_DIR = path.join(REPO, ".auditbridge", "docker-app");

/** Dockerfile instructions with line continuations joined and comments dropped. */
function instructions(text: string): string[] {
  return text
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("#"))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim().replace(/\s+/g, " "))
    .filter((line) => line !== "");
}

function execForm(instruction: string, keyword: RegExp): string[] {
  const match = keyword.exec(instruction);
  if (!match) throw new Error(`no exec-form array in: ${instruction}`);
  return JSON.parse(instruction.slice(match.index + match[0].length - 1)) as string[];
}

const lines = instructions(DOCKERFILE);
const runtimeStart = lines.findIndex((line) => /^FROM \S+ AS runtime$/i.test(line));
const runtime = lines.slice(runtimeStart);
const cmd = execForm(runtime.find((line) => line.startsWith("CMD "))!, /^CMD \[/);
/** Index of the script in CMD: node's flags stand before it, the command's arguments after. */
const scriptAt = cmd.findIndex((arg) => arg.endsWith(".js"));
const healthcheck = execForm(runtime.find((line) => line.startsWith("HEALTHCHECK "))!, / CMD \[/);

describe("collector/Dockerfile", () => {
  it("builds in one stage and runs from a second, as a non-root user under tini", () => {
    expect(lines.filter((line) => line.startsWith("FROM "))).toHaveLength(2);
    expect(runtimeStart).toBeGreaterThan(0);
    expect(lines.slice(0, runtimeStart)).toContain("RUN npm ci --no-audit --no-fund");
    expect(lines.slice(0, runtimeStart)).toContain("RUN npx tsc -p collector/tsconfig.build.json");
    expect(lines.slice(0, runtimeStart).some((line) => /npm prune --omit=dev/.test(line))).toBe(
      true,
    );
    expect(runtime).toContain("USER node");
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime.some((line) => /^COPY --from=build \/src\/node_modules /.test(line))).toBe(true);
    // The runtime stage never installs dev dependencies or copies sources.
    expect(runtime.some((line) => /npm (ci|install)/.test(line))).toBe(false);
    expect(runtime.some((line) => /^COPY (?!--from=build)/.test(line))).toBe(false);
  });

  it("runs node directly and checks health with node", () => {
    expect(cmd).toEqual(["node", ...COLLECTOR_NODE_FLAGS, "bin/collector/src/main.js", "run"]);
    expect(healthcheck[0]).toBe("node");
  });

  it("keeps secrets and local state out of the build context", () => {
    const ignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "**/.auditbridge", "**/.env", "**/*.pem", ".git"]) {
      expect(ignore).toContain(entry);
    }
  });
});

describe("the image's commands, run from a compiled /app layout", () => {
  let emulator: Emulator;

  beforeAll(async () => {
    rmSync(APP_DIR, { recursive: true, force: true });
    // The build stage's compile step, into the /app layout.
    await run(
      process.execPath,
      [
        path.join(REPO, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "collector/tsconfig.build.json",
        "--outDir",
        path.join(APP_DIR, "bin"),
      ],
      { cwd: REPO, timeout: 170_000 },
    );
    emulator = await startEmulator({
      seed: 23,
      scenario: {
        contentTypes: ["Audit.Exchange", "Audit.General"],
        historyHours: 3,
        blobsPerHour: 2,
        recordsPerBlob: [3, 10],
        lateRate: 0,
      },
    });
  }, 180_000);
  afterEach(killStragglers);
  afterAll(async () => {
    await emulator?.stop();
    rmSync(APP_DIR, { recursive: true, force: true });
  });

  it("compiles only the collector and the domain module it imports, nothing else of the repository", () => {
    expect(readdirSync(path.join(APP_DIR, "bin")).sort()).toEqual(["collector", "domain"]);
    expect(existsSync(path.join(APP_DIR, cmd[scriptAt]!))).toBe(true);
  });

  it("serves /healthz for the HEALTHCHECK command and drains on SIGTERM", async () => {
    const ws = workspace(emulator, { O365_CONTENT_TYPES: "Audit.Exchange,Audit.General" });
    const collector = spawnCollector(
      cmd.slice(scriptAt + 1),
      ws.env,
      cmd.slice(1, scriptAt + 1),
      APP_DIR,
    );
    const port = await collector.port();
    const check = () =>
      new Promise<number>((resolve) => {
        const probe = spawn(
          healthcheck[0] === "node" ? process.execPath : healthcheck[0]!,
          healthcheck.slice(1),
          {
            env: { ...ws.env, AUDIT_HTTP_PORT: String(port) },
            stdio: "ignore",
          },
        );
        probe.on("exit", (code) => resolve(code ?? -1));
      });
    const deadline = Date.now() + 60_000;
    let healthy = await check();
    while (healthy !== 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      healthy = await check();
    }
    expect(healthy).toBe(0);
    expect(sorted(idsInFile(ws.filePath))).toEqual(
      sorted(emulator.truth.expectedRecordIds(["Audit.Exchange", "Audit.General"])),
    );
    collector.child.kill("SIGTERM");
    await exitCodeOf(collector, 0);
    // With the collector gone, the same check reports unhealthy.
    expect(await check()).toBe(1);
  }, 120_000);
});
