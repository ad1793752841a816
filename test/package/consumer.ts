/**
 * The package as a consumer gets it: `npm run build:package`, then `npm pack`, then the
 * tarball's contents extracted into a temporary project's node_modules/auditbridge, outside the
 * repository. The peer dependencies (@pulumi/pulumi, @pulumi/azuread, @pulumi/azure-native,
 * @pulumiverse/time) are symlinked from the repository's install instead of downloaded, so the
 * tests need no network and no registry: a consumer's `npm install auditbridge` puts the same
 * files in the same places. Nothing else of the repository is reachable from the temporary
 * project: no sources, no tsx.
 *
 * Building and packing take a while, and test files run in parallel workers, so the tarball is
 * cached under the system temp folder by a hash of everything that goes into it; a lock folder
 * keeps two workers from building at once.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";

/** The repository root. */
export const REPO = path.resolve(__dirname, "..", "..");

/**
 * The packages a consumer installs next to auditbridge (its peerDependencies). `@azure/identity`
 * is optional: only `enableAuditLogging` loads it, at deploy time.
 */
export const PEERS = [
  "@pulumi/pulumi",
  "@pulumi/azuread",
  "@pulumi/azure-native",
  "@pulumiverse/time",
  "@azure/identity",
] as const;

/** What `npm pack --json` reports about the tarball. */
export interface PackResult {
  /** Absolute path of the .tgz. */
  tarball: string;
  /** Paths inside the package, as npm lists them. */
  files: string[];
}

/** Every file under a folder, repository-relative, sorted. */
function filesUnder(folder: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else found.push(path.relative(REPO, full));
    }
  };
  walk(path.join(REPO, folder));
  return found.sort();
}

/** Hash of the inputs of the build and the pack: sources, manifests, compiler settings. */
function inputsHash(): string {
  const hash = createHash("sha256");
  const inputs = [
    ...filesUnder("components"),
    ...filesUnder("domain"),
    "package.json",
    "tsconfig.json",
    "tsconfig.package.json",
    "README.md",
  ];
  for (const file of inputs) {
    hash
      .update(file)
      .update("\0")
      .update(readFileSync(path.join(REPO, file)))
      .update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Runs npm in the repository; its output is returned, its errors thrown with their output. */
function npm(args: string[], cwd = REPO): string {
  return execFileSync("npm", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
}

/** Builds and packs the package once per content: later calls (in any worker) reuse it. */
export function packedPackage(): PackResult {
  const cache = path.join(os.tmpdir(), `auditbridge-pack-${inputsHash()}`);
  const manifest = path.join(cache, "pack.json");
  const lock = `${cache}.lock`;
  const deadline = Date.now() + 240_000;
  for (;;) {
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")) as PackResult;
    try {
      mkdirSync(lock);
      break;
    } catch {
      // Another worker builds; a lock older than five minutes was left by a killed run.
      if (Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs > 300_000) {
        rmSync(lock, { recursive: true, force: true });
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${lock}`);
      sleepMs(500);
    }
  }
  try {
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")) as PackResult;
    npm(["run", "build:package", "--silent"]);
    const staging = mkdtempSync(path.join(os.tmpdir(), "auditbridge-packing-"));
    // The build just ran; --ignore-scripts keeps prepack from running it a second time.
    const [report] = JSON.parse(
      npm(["pack", "--json", "--ignore-scripts", "--pack-destination", staging]),
    ) as [{ filename: string; files: { path: string }[] }];
    const result: PackResult = {
      tarball: path.join(cache, report.filename),
      files: report.files.map((f) => f.path).sort(),
    };
    mkdirSync(cache, { recursive: true });
    renameSync(path.join(staging, report.filename), result.tarball);
    rmSync(staging, { recursive: true, force: true });
    writeFileSync(manifest, JSON.stringify(result));
    return result;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Consumer projects made by this worker, removed by {@link removeConsumerProjects}. */
const made: string[] = [];

/** Removes every consumer project this worker made (the cached tarball stays). */
export function removeConsumerProjects(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A temporary consumer project: `extra` files copied in, the packed tarball extracted as
 * node_modules/auditbridge, the peers linked from the repository's install. Returns its folder.
 */
export function consumerProject(pack: PackResult, label: string, copyFrom?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `auditbridge-consumer-${label}-`));
  made.push(dir);
  if (copyFrom) cpSync(copyFrom, dir, { recursive: true });
  const modules = path.join(dir, "node_modules");
  mkdirSync(modules, { recursive: true });
  execFileSync("tar", ["-xzf", pack.tarball, "-C", modules]);
  renameSync(path.join(modules, "package"), path.join(modules, "auditbridge"));
  for (const peer of PEERS) {
    const target = realpathSync(path.join(REPO, "node_modules", peer));
    mkdirSync(path.dirname(path.join(modules, peer)), { recursive: true });
    symlinkSync(target, path.join(modules, peer), "dir");
  }
  return dir;
}
