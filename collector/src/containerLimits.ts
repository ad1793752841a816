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
 *
 * The process's own cgroup (`/proc/self/cgroup`, https://man7.org/linux/man-pages/man7/cgroups.7.html)
 * is read first, then the mount's root: inside a container with its own cgroup namespace both are
 * the same directory, and on a host (the benchmark's container mode) the own cgroup is the one
 * that limits the process.
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

/** The process's cgroup paths: `v2` from the `0::<path>` line, `v1` by controller name. */
function membership(text: string | undefined): { v2?: string; v1: Map<string, string> } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of (text ?? "").split("\n")) {
    const match = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!match) continue;
    const [, id, controllers, cgroupPath] = match;
    if (id === "0" && controllers === "") v2 = cgroupPath;
    for (const controller of controllers!.split(",")) {
      if (controller !== "") v1.set(controller, cgroupPath!);
    }
  }
  return v2 === undefined ? { v1 } : { v2, v1 };
}

/** The first of the own cgroup's file and the mount root's file that can be read. */
function readOwnOrRoot(dir: string, own: string | undefined, file: string): string | undefined {
  if (own !== undefined && own !== "/") {
    const value = read(path.join(dir, own, file));
    if (value !== undefined) return value;
  }
  return read(path.join(dir, file));
}

/**
 * Reads the limits under `root`; never throws (unreadable files mean no limit). `selfCgroup` is
 * the text of `/proc/self/cgroup`.
 */
export function readContainerLimits(
  root = DEFAULT_CGROUP_ROOT,
  selfCgroup: string | undefined = read("/proc/self/cgroup"),
): ContainerLimits {
  const own = membership(selfCgroup);
  const cpuMax = readOwnOrRoot(root, own.v2, "cpu.max");
  const memoryMax = readOwnOrRoot(root, own.v2, "memory.max");
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
  const cpuDir = path.join(root, "cpu");
  const quota = readOwnOrRoot(cpuDir, own.v1.get("cpu"), "cpu.cfs_quota_us");
  const period = readOwnOrRoot(cpuDir, own.v1.get("cpu"), "cpu.cfs_period_us");
  const memory = readOwnOrRoot(
    path.join(root, "memory"),
    own.v1.get("memory"),
    "memory.limit_in_bytes",
  );
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

/**
 * Main-thread heap (`--max-old-space-size`) when no memory limit is found: V8 otherwise lets
 * garbage pile up to gigabytes before collecting it; this keeps the footprint near the working
 * set (the pipeline holds well under 150 MB at the defaults).
 */
export const DEFAULT_MAX_OLD_SPACE_SIZE_MB = 192;
/**
 * Old generation of each worker thread when no memory limit is found, and the least it gets: what
 * a 0.5 GiB container gives it. A worker holds one message's data at a time; without a cap V8
 * lets its garbage grow as large as the main thread's.
 */
export const DEFAULT_WORKER_OLD_GENERATION_MB = 32;
/**
 * Main thread's semi-space (`--max-semi-space-size`, MiB; the young generation is two of them).
 * Node 20's default lets each grow to 16 MiB, and under a steady stream of records they do: the
 * logs-ingestion benchmark's main thread held a 32 MiB new space at its peak RSS, 8 MiB with 4
 * (peak RSS 275 → 256 MB at 200k records, docs/benchmarks.md). What the main thread allocates
 * per record is short-lived (objects wrapping bytes that live off the heap), so scavenges of a
 * small new space stay cheap. Not derived from the memory limit: it is the same in a container.
 */
export const MAIN_MAX_SEMI_SPACE_MB = 4;
/** Young generation of each parse worker: its garbage is short-lived (one chunk's records). */
export const PARSE_WORKER_YOUNG_GENERATION_MB = 8;

/** Heap sizes of the collector's threads, in MB (V8 counts MiB). */
export interface HeapSizes {
  /** `--max-old-space-size` of the main thread. */
  mainOldSpaceMb: number;
  /** `resourceLimits.maxOldGenerationSizeMb` of each worker thread (parse workers, state store). */
  workerOldGenerationMb: number;
}

function clamp(value: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, Math.floor(value)));
}

/**
 * Heaps sized from the memory limit: 3/8 of it for the main thread (192 MB of a 0.5 GiB Container
 * App) and 1/16 for each worker thread (32 MB; the parse workers and the state store's thread
 * hold one message's data at a time), so five workers and the main thread still leave over a
 * third for young generations, code, the records' bytes outside the heap, SQLite and gzip. Without a limit: {@link DEFAULT_MAX_OLD_SPACE_SIZE_MB} and
 * {@link DEFAULT_WORKER_OLD_GENERATION_MB}.
 */
export function heapSizes(limits: ContainerLimits = readContainerLimits()): HeapSizes {
  if (limits.memoryBytes === undefined) {
    return {
      mainOldSpaceMb: DEFAULT_MAX_OLD_SPACE_SIZE_MB,
      workerOldGenerationMb: DEFAULT_WORKER_OLD_GENERATION_MB,
    };
  }
  const mib = limits.memoryBytes / 2 ** 20;
  return {
    mainOldSpaceMb: clamp((mib * 3) / 8, 64, 4096),
    workerOldGenerationMb: clamp(mib / 16, DEFAULT_WORKER_OLD_GENERATION_MB, 256),
  };
}
