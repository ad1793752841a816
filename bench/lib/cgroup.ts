/**
 * The benchmark's container mode (`npm run bench -- --container`): the collector runs in a cgroup
 * limited like the Container App the component deploys (0.25 vCPU, 0.5 GiB), without Docker.
 * Needs write access to the cgroup file system (root, or a delegated subtree); when there is
 * none, `createBenchCgroup` says exactly why and the scenario reports it instead of figures.
 *
 * The cgroup is made under this process's own cgroup (from `/proc/self/cgroup`), so whatever
 * limits this process already has still apply. cgroup v2 (`cpu.max`, `memory.max`,
 * https://docs.kernel.org/admin-guide/cgroup-v2.html) is used when it is the only hierarchy;
 * otherwise the v1 `cpu` and `memory` controllers (`cpu.cfs_quota_us`, `memory.limit_in_bytes`,
 * https://docs.kernel.org/admin-guide/cgroup-v1/memory.html). The collector finds the limits the
 * way it does in a container: collector/src/containerLimits.ts reads its own cgroup first.
 */
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import path from "node:path";

const CGROUP_ROOT = "/sys/fs/cgroup";
const CPU_PERIOD_US = 100_000;

/** The limits of the Container App CollectorService deploys (components/collectorContainer.ts). */
export interface CgroupLimits {
  cpus: number;
  memoryBytes: number;
}

/** A cgroup made for one collector run. */
export interface BenchCgroup {
  kind: "cgroup2" | "cgroup1";
  /** Prefix for spawn: a shell that moves itself into the cgroup, then execs the command. */
  launcher: string[];
  /** What the kernel counted: CPU time the quota withheld, and the highest memory use. */
  usage(): { throttledMs: number | null; memoryPeakBytes: number | null };
  /** Removes the cgroup (after its processes have exited). */
  remove(): void;
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function ownPaths(): { v2?: string; v1: Map<string, string> } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of (read("/proc/self/cgroup") ?? "").split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!match) continue;
    if (match[1] === "0" && match[2] === "") v2 = match[3];
    for (const controller of match[2]!.split(",")) if (controller) v1.set(controller, match[3]!);
  }
  return v2 === undefined ? { v1 } : { v2, v1 };
}

function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function launcherFor(procsFiles: string[]): string[] {
  const moves = procsFiles.map((file) => `echo $$ > ${shellQuote(file)}`).join(" && ");
  return ["/bin/sh", "-c", `${moves} && exec "$@"`, "auditbridge-bench-cgroup"];
}

function number(text: string | undefined): number | null {
  const value = Number(text);
  return text !== undefined && Number.isFinite(value) ? value : null;
}

/** Makes the cgroup, or returns why it cannot be made here. */
export function createBenchCgroup(name: string, limits: CgroupLimits): BenchCgroup | string {
  const own = ownPaths();
  const quota = String(Math.round(limits.cpus * CPU_PERIOD_US));
  const made: string[] = [];
  const removeAll = () => {
    for (const dir of made.reverse()) {
      try {
        rmdirSync(dir);
      } catch {
        // Still busy or already gone: nothing more to do for a benchmark.
      }
    }
  };
  try {
    if (existsSync(path.join(CGROUP_ROOT, "cgroup.controllers"))) {
      const parent = path.join(CGROUP_ROOT, own.v2 ?? "/");
      const enabled = (read(path.join(parent, "cgroup.subtree_control")) ?? "").split(/\s+/);
      for (const controller of ["cpu", "memory"]) {
        if (!enabled.includes(controller)) {
          return `cgroup v2: the ${controller} controller is not enabled for children of ${parent} (cgroup.subtree_control)`;
        }
      }
      const dir = path.join(parent, name);
      mkdirSync(dir);
      made.push(dir);
      writeFileSync(path.join(dir, "cpu.max"), `${quota} ${CPU_PERIOD_US}`);
      writeFileSync(path.join(dir, "memory.max"), String(limits.memoryBytes));
      return {
        kind: "cgroup2",
        launcher: launcherFor([path.join(dir, "cgroup.procs")]),
        usage: () => {
          const stat = read(path.join(dir, "cpu.stat")) ?? "";
          const throttledUs = number(/^throttled_usec (\d+)$/m.exec(stat)?.[1]);
          return {
            throttledMs: throttledUs === null ? null : throttledUs / 1000,
            memoryPeakBytes: number(read(path.join(dir, "memory.peak"))),
          };
        },
        remove: removeAll,
      };
    }
    const cpuParent = path.join(CGROUP_ROOT, "cpu", own.v1.get("cpu") ?? "/");
    const memoryParent = path.join(CGROUP_ROOT, "memory", own.v1.get("memory") ?? "/");
    if (!existsSync(path.join(cpuParent, "cpu.cfs_quota_us"))) {
      return `no cgroup v2 and no cgroup v1 cpu controller at ${cpuParent}`;
    }
    if (!existsSync(path.join(memoryParent, "memory.limit_in_bytes"))) {
      return `no cgroup v2 and no cgroup v1 memory controller at ${memoryParent}`;
    }
    const cpuDir = path.join(cpuParent, name);
    const memoryDir = path.join(memoryParent, name);
    mkdirSync(cpuDir);
    made.push(cpuDir);
    mkdirSync(memoryDir);
    made.push(memoryDir);
    writeFileSync(path.join(cpuDir, "cpu.cfs_period_us"), String(CPU_PERIOD_US));
    writeFileSync(path.join(cpuDir, "cpu.cfs_quota_us"), quota);
    writeFileSync(path.join(memoryDir, "memory.limit_in_bytes"), String(limits.memoryBytes));
    return {
      kind: "cgroup1",
      launcher: launcherFor([
        path.join(cpuDir, "cgroup.procs"),
        path.join(memoryDir, "cgroup.procs"),
      ]),
      usage: () => {
        const stat = read(path.join(cpuDir, "cpu.stat")) ?? "";
        const throttledNs = number(/^throttled_time (\d+)$/m.exec(stat)?.[1]);
        return {
          throttledMs: throttledNs === null ? null : throttledNs / 1e6,
          memoryPeakBytes: number(read(path.join(memoryDir, "memory.max_usage_in_bytes"))),
        };
      },
      remove: removeAll,
    };
  } catch (error) {
    removeAll();
    const err = error as NodeJS.ErrnoException;
    return `cannot create a cgroup here (${err.code ?? "error"}: ${err.message}); run the benchmark as root or in a delegated cgroup subtree`;
  }
}

/** CPU time (user + system) a process has used so far, in ms; null once it is gone. */
export function processCpuMs(pid: number): number | null {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return null;
  // Fields after the command (which may contain spaces) start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerSecond = 100; // USER_HZ on Linux (https://man7.org/linux/man-pages/man5/proc.5.html)
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond;
}
