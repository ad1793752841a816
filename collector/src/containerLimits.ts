/**
 * The CPU and memory a container may really use, from its cgroup, so the collector sizes its
 * threads for a 0.25 vCPU Container App and not for the 64-core host it happens to run on
 * (`os.availableParallelism()` reports the host's cores inside a container).
 *
 * cgroup v2: `cpu.max` ("<quota> <period>" or "max <period>") and `memory.max` (bytes or "max"),
 * https://docs.kernel.org/admin-guide/cgroup-v2.html#cpu-interface-files ; cgroup v1 fallback:
 * `cpu/cpu.cfs_quota_us` (-1 = none), `cpu/cpu.cfs_period_us` and `memory/memory.limit_in_bytes`,
 * https://docs.kernel.org/scheduler/sched-bwc.html . Read by hand: no maintained npm package
 * reads both versions without native code, and it is four small files.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import path from "node:path";

/** Where the cgroup file system is mounted in a container. */
export const DEFAULT_CGROUP_ROOT = "/sys/fs/cgroup";
/**
 * cgroup v1 reports "no limit" as a huge page-aligned number rather than -1; anything at or
 * above this is no limit.
 */
const V1_NO_MEMORY_LIMIT_BYTES = 2 ** 62;

/** Limits found; a missing field means no limit (or no cgroup to read). */
export interface ContainerLimits {
  /** CPU quota in cores, e.g. 0.25; fractional. */
  cpus?: number;
  memoryBytes?: number;
  /** Which interface the limits came from. */
  source: "cgroup2" | "cgroup1" | "none";
}

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function positive(value: number): number | undefined {
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Reads the limits under `root`; never throws (unreadable files mean no limit). */
export function readContainerLimits(root = DEFAULT_CGROUP_ROOT): ContainerLimits {
  const cpuMax = read(path.join(root, "cpu.max"));
  const memoryMax = read(path.join(root, "memory.max"));
  if (cpuMax !== undefined || memoryMax !== undefined) {
    const limits: ContainerLimits = { source: "cgroup2" };
    const [quota, period] = (cpuMax ?? "max").split(/\s+/);
    if (quota !== "max" && quota !== undefined) {
      const cpus = positive(Number(quota) / Number(period ?? "100000"));
      if (cpus !== undefined) limits.cpus = cpus;
    }
    if (memoryMax !== undefined && memoryMax !== "max") {
      const bytes = positive(Number(memoryMax));
      if (bytes !== undefined) limits.memoryBytes = bytes;
    }
    return limits;
  }
  const quota = read(path.join(root, "cpu", "cpu.cfs_quota_us"));
  const period = read(path.join(root, "cpu", "cpu.cfs_period_us"));
  const memory = read(path.join(root, "memory", "memory.limit_in_bytes"));
  if (quota === undefined && memory === undefined) return { source: "none" };
  const limits: ContainerLimits = { source: "cgroup1" };
  if (quota !== undefined && Number(quota) > 0) {
    const cpus = positive(Number(quota) / Number(period ?? "100000"));
    if (cpus !== undefined) limits.cpus = cpus;
  }
  if (memory !== undefined) {
    const bytes = positive(Number(memory));
    if (bytes !== undefined && bytes < V1_NO_MEMORY_LIMIT_BYTES) limits.memoryBytes = bytes;
  }
  return limits;
}

/**
 * Whole cores the process may keep busy: the host's, capped by the cgroup quota rounded up
 * (a 0.25 vCPU container still runs on one core at a time, just not all the time).
 */
export function usableCores(
  limits: ContainerLimits = readContainerLimits(),
  hostCores: number = availableParallelism(),
): number {
  if (limits.cpus === undefined) return hostCores;
  return Math.max(1, Math.min(hostCores, Math.ceil(limits.cpus)));
}
