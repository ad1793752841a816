/**
 * There is no Docker engine here, so the image's contract is tested piece by piece: the
 * Dockerfile's shape, the compile step it runs, and the exact CMD and HEALTHCHECK commands,
 * executed against the emulator from a directory laid out like the image's /app.
 */
import { execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { COLLECTOR_PROCESS_ENV, collectorNodeFlags } from "../../../collector/src/nodeFlags";
import { COLLECTOR_RUN_ONCE_ARGS } from "../../../components/collectorJob";
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
/** What the image's production install installs (the dependencies of the `collector` workspace). */
const IMAGE_DEPENDENCIES = Object.keys(
  (
    JSON.parse(readFileSync(path.join(REPO, "collector", "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    }
  ).dependencies ?? {},
);

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
/**
 * CMD is `/bin/sh -c <line> collector <arguments>`: the line runs the flags script, then `exec`s
 * node with those flags, the collector's script and the arguments.
 */
const [cmdShell, cmdDashC, cmdLine, cmdName, ...cmdArgs] = cmd;
const LINE = /^exec node \$\(node (?<flags>\S+\.js)\) (?<main>\S+\.js) "\$@"$/;
const lineParts = LINE.exec(cmdLine ?? "")?.groups ?? {};
const flagsScript = lineParts.flags ?? "";
const mainScript = lineParts.main ?? "";
const healthcheck = execForm(runtime.find((line) => line.startsWith("HEALTHCHECK "))!, / CMD \[/);

describe("collector/Dockerfile", () => {
  it("builds in one stage and runs from a second, as a non-root user under tini", () => {
    expect(lines.filter((line) => line.startsWith("FROM "))).toHaveLength(2);
    expect(runtimeStart).toBeGreaterThan(0);
    expect(lines.slice(0, runtimeStart)).toContain("RUN npx tsc -p collector/tsconfig.build.json");
    expect(runtime).toContain("USER node");
    expect(runtime).toContain('ENTRYPOINT ["/usr/bin/tini", "--"]');
    expect(runtime.some((line) => /^COPY --from=build \/src\/node_modules /.test(line))).toBe(true);
    // The runtime stage never installs dev dependencies or copies sources.
    expect(runtime.some((line) => /npm (ci|install)/.test(line))).toBe(false);
    expect(runtime.some((line) => /^COPY (?!--from=build)/.test(line))).toBe(false);
  });

  it("installs the collector workspace alone: its build tools to compile, then its dependencies only", () => {
    const build = lines.slice(0, runtimeStart);
    expect(build.slice(build.findIndex((line) => line.startsWith("COPY ")))).toEqual([
      // The manifests and the lockfile alone first, so source edits keep the install layer cached.
      "COPY package.json package-lock.json ./",
      "COPY collector/package.json collector/",
      "RUN npm ci --workspace collector --include-workspace-root=false --ignore-scripts --no-audit --no-fund",
      "COPY tsconfig.json ./",
      "COPY domain/ domain/",
      "COPY collector/ collector/",
      "RUN npx tsc -p collector/tsconfig.build.json",
      // A clean install of the dependencies alone: the build tools are gone from node_modules.
      "RUN npm pkg delete devDependencies --workspace collector && npm ci --omit=dev --workspace collector --include-workspace-root=false --no-audit --no-fund && rm -r node_modules/@auditbridge",
    ]);
    // The runtime stage gets the compiled JavaScript, that install and the manifest describing it.
    expect(runtime.filter((line) => line.startsWith("COPY "))).toEqual([
      "COPY --from=build /src/collector/package.json ./package.json",
      "COPY --from=build /src/node_modules ./node_modules",
      "COPY --from=build /src/bin/collector ./bin/collector",
      "COPY --from=build /src/bin/domain ./bin/domain",
    ]);
  });

  it("execs node with heap flags computed from the container's memory limit, and checks health with node", () => {
    expect([cmdShell, cmdDashC, cmdName, ...cmdArgs]).toEqual([
      "/bin/sh",
      "-c",
      "collector",
      "run",
    ]);
    expect(flagsScript).toBe("bin/collector/src/nodeFlags.js");
    expect(mainScript).toBe("bin/collector/src/main.js");
    expect(healthcheck[0]).toBe("node");
    // A scheduled Container Apps Job replaces CMD with its args: the same command, run once.
    expect(COLLECTOR_RUN_ONCE_ARGS).toEqual([...cmd, "--once"]);
  });

  it("starts node with the process environment the benchmarks measure (COLLECTOR_PROCESS_ENV)", () => {
    const env = runtime
      .filter((line) => line.startsWith("ENV "))
      .flatMap((line) => line.slice(4).split(" "))
      .map((pair) => pair.split("=") as [string, string]);
    for (const [name, value] of Object.entries(COLLECTOR_PROCESS_ENV)) {
      expect(env).toContainEqual([name, value]);
    }
    expect(COLLECTOR_PROCESS_ENV).toEqual({ MALLOC_ARENA_MAX: "2" });
  });

  it("keeps secrets and local state out of the build context", () => {
    const ignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8").split("\n");
    for (const entry of ["**/node_modules", "**/.auditbridge", "**/.env", "**/*.pem", ".git"]) {
      expect(ignore).toContain(entry);
    }
  });

  it("sends the build only what its build stage copies", () => {
    const ignore = readFileSync(path.join(REPO, ".dockerignore"), "utf8")
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("#"));
    expect(ignore[0]).toBe("*");
    const allowed = ignore.filter((line) => line.startsWith("!")).map((line) => line.slice(1));
    const copied = lines
      .slice(0, runtimeStart)
      .filter((line) => /^COPY (?!--from=)/.test(line))
      .flatMap((line) => line.split(" ").slice(1, -1))
      .map((source) => source.replace(/\/$/, ""));
    const covers = (entry: string, source: string) =>
      source === entry || source.startsWith(`${entry}/`);
    expect(copied.filter((source) => !allowed.some((entry) => covers(entry, source)))).toEqual([]);
    expect(allowed.filter((entry) => !copied.some((source) => covers(entry, source)))).toEqual([]);
  });
});

describe("the image's commands, run from a compiled /app layout", () => {
  let emulator: Emulator;
  /**
   * Laid out like the image's WORKDIR /app: the compiled bin/ and a node_modules holding only the
   * image's dependencies (linked from the repository's), outside the repository so that nothing
   * else resolves.
   */
  let appDir: string;

  beforeAll(async () => {
    appDir = mkdtempSync(path.join(tmpdir(), "auditbridge-docker-app-"));
    for (const name of IMAGE_DEPENDENCIES) {
      const link = path.join(appDir, "node_modules", name);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(REPO, "node_modules", name), link, "dir");
    }
    // The build stage's compile step, into the /app layout.
    await run(
      process.execPath,
      [
        path.join(REPO, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        "collector/tsconfig.build.json",
        "--outDir",
        path.join(appDir, "bin"),
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
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it("compiles only the collector and the domain module it imports, nothing else of the repository", () => {
    expect(readdirSync(path.join(appDir, "bin")).sort()).toEqual(["collector", "domain"]);
    expect(existsSync(path.join(appDir, mainScript))).toBe(true);
    expect(existsSync(path.join(appDir, flagsScript))).toBe(true);
  });

  it("prints node flags for the machine's limits from the compiled flags script", async () => {
    const { stdout } = await run(process.execPath, [flagsScript], { cwd: appDir });
    expect(stdout.trim().split(/\s+/)).toEqual(collectorNodeFlags());
  });

  it("runs CMD's shell line as written: the shell execs node with the flags and the collector's arguments", async () => {
    const { stdout } = await run("/bin/sh", ["-c", cmdLine!, cmdName!, "--help"], {
      cwd: appDir,
      env: { PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ""}` },
    });
    expect(stdout).toMatch(/^Example:/);
    expect(stdout).toContain("npm run collector -- run --once");
  });

  it("serves /healthz for the HEALTHCHECK command and drains on SIGTERM", async () => {
    const ws = workspace(emulator, { O365_CONTENT_TYPES: "Audit.Exchange,Audit.General" });
    const { stdout: flags } = await run(process.execPath, [flagsScript], { cwd: appDir });
    const collector = spawnCollector(
      cmdArgs,
      ws.env,
      [...flags.trim().split(/\s+/), mainScript],
      appDir,
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
    // Healthy means every content type is polling and committing, not that the backlog is done:
    // wait for the first poll to deliver it before comparing.
    const expected = sorted(emulator.truth.expectedRecordIds(["Audit.Exchange", "Audit.General"]));
    const drained = Date.now() + 30_000;
    while (
      idsInFile(ws.filePath, { live: true }).length < expected.length &&
      Date.now() < drained
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(sorted(idsInFile(ws.filePath))).toEqual(expected);
    collector.child.kill("SIGTERM");
    await exitCodeOf(collector, 0);
    // With the collector gone, the same check reports unhealthy.
    expect(await check()).toBe(1);
  }, 120_000);
});
