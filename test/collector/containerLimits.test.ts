import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { heapSizes, readContainerLimits, usableCores } from "../../collector/src/containerLimits";
import { COLLECTOR_NODE_FLAGS, collectorNodeFlags } from "../../collector/src/nodeFlags";
import { defaultParseWorkers, ParseWorkerPool } from "../../collector/src/source/parseWorkers";

const roots: string[] = [];

/** A fake cgroup mount with the given files (path relative to the root → content). */
function cgroup(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), "auditbridge-cgroup-"));
  roots.push(root);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    writeFileSync(path.join(root, name), `${content}\n`);
  }
  return root;
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

describe("readContainerLimits", () => {
  it("reads a 0.25 vCPU / 0.5 GiB Container App from cgroup v2", () => {
    const limits = readContainerLimits(
      cgroup({ "cpu.max": "25000 100000", "memory.max": String(512 * 1024 * 1024) }),
    );
    expect(limits).toEqual({ source: "cgroup2", cpus: 0.25, memoryBytes: 536_870_912 });
  });

  it("reads no limit from cgroup v2's 'max'", () => {
    expect(readContainerLimits(cgroup({ "cpu.max": "max 100000", "memory.max": "max" }))).toEqual({
      source: "cgroup2",
    });
  });

  it("falls back to cgroup v1 quota, period and memory limit", () => {
    const limits = readContainerLimits(
      cgroup({
        "cpu/cpu.cfs_quota_us": "150000",
        "cpu/cpu.cfs_period_us": "100000",
        "memory/memory.limit_in_bytes": "1073741824",
      }),
    );
    expect(limits).toEqual({ source: "cgroup1", cpus: 1.5, memoryBytes: 1_073_741_824 });
  });

  it("reads cgroup v1's -1 quota and page-aligned huge memory limit as no limit", () => {
    const limits = readContainerLimits(
      cgroup({
        "cpu/cpu.cfs_quota_us": "-1",
        "cpu/cpu.cfs_period_us": "100000",
        "memory/memory.limit_in_bytes": "9223372036854771712",
      }),
    );
    expect(limits).toEqual({ source: "cgroup1" });
  });

  it("reads the process's own cgroup v1 directories first, as /proc/self/cgroup names them", () => {
    const root = cgroup({
      "cpu/cpu.cfs_quota_us": "-1",
      "cpu/cpu.cfs_period_us": "100000",
      "cpu/bench/cpu.cfs_quota_us": "25000",
      "cpu/bench/cpu.cfs_period_us": "100000",
      "memory/memory.limit_in_bytes": "9223372036854771712",
      "memory/sandbox/bench/memory.limit_in_bytes": "536870912",
    });
    const self = "9:name=systemd:/\n4:memory:/sandbox/bench\n2:cpuacct:/\n1:cpu:/bench\n0::/\n";
    expect(readContainerLimits(root, self)).toEqual({
      source: "cgroup1",
      cpus: 0.25,
      memoryBytes: 536_870_912,
    });
    // A container without its own cgroup namespace names a path its mount does not have.
    expect(readContainerLimits(root, "4:memory:/docker/abc\n1:cpu,cpuacct:/docker/abc\n")).toEqual({
      source: "cgroup1",
    });
  });

  it("reads the process's own cgroup v2 directory first", () => {
    const root = cgroup({
      "cpu.max": "max 100000",
      "kubepods/pod1/cpu.max": "50000 100000",
      "kubepods/pod1/memory.max": "268435456",
    });
    expect(readContainerLimits(root, "0::/kubepods/pod1\n")).toEqual({
      source: "cgroup2",
      cpus: 0.5,
      memoryBytes: 268_435_456,
    });
    expect(readContainerLimits(root, "0::/\n")).toEqual({ source: "cgroup2" });
  });

  it("reports no cgroup where there is none", () => {
    expect(readContainerLimits(cgroup({}))).toEqual({ source: "none" });
  });
});

describe("sizing from the container, not the host", () => {
  it("gives a 0.25 vCPU container on a 64-core host one core and one parse worker", () => {
    const limits = readContainerLimits(cgroup({ "cpu.max": "25000 100000" }));
    expect(usableCores(limits, 64)).toBe(1);
    expect(defaultParseWorkers(usableCores(limits, 64))).toBe(1);
  });

  it("rounds a fractional quota up and never exceeds the host's cores", () => {
    expect(usableCores({ source: "cgroup2", cpus: 2.5 }, 64)).toBe(3);
    expect(usableCores({ source: "cgroup2", cpus: 16 }, 2)).toBe(2);
    expect(usableCores({ source: "none" }, 8)).toBe(8);
    expect(defaultParseWorkers(usableCores({ source: "cgroup2", cpus: 2.5 }, 64))).toBe(2);
  });
});

describe("heap sizes from the memory limit", () => {
  it("gives a 0.5 GiB Container App a 192 MB main heap and 32 MB per worker thread", () => {
    const limits = readContainerLimits(
      cgroup({ "cpu.max": "25000 100000", "memory.max": String(512 * 1024 * 1024) }),
    );
    expect(heapSizes(limits)).toEqual({ mainOldSpaceMb: 192, workerOldGenerationMb: 32 });
    expect(collectorNodeFlags(limits)).toEqual([
      "--max-old-space-size=192",
      "--max-semi-space-size=4",
    ]);
  });

  it("reads cgroup v1's memory.limit_in_bytes the same way", () => {
    const limits = readContainerLimits(
      cgroup({ "memory/memory.limit_in_bytes": String(2 * 1024 ** 3) }),
    );
    expect(heapSizes(limits)).toEqual({ mainOldSpaceMb: 768, workerOldGenerationMb: 128 });
    expect(collectorNodeFlags(limits)).toEqual([
      "--max-old-space-size=768",
      "--max-semi-space-size=4",
    ]);
  });

  it("keeps small containers workable and large ones bounded", () => {
    const mib = (n: number) => ({ source: "cgroup2" as const, memoryBytes: n * 2 ** 20 });
    expect(heapSizes(mib(256))).toEqual({ mainOldSpaceMb: 96, workerOldGenerationMb: 32 });
    expect(heapSizes(mib(128))).toEqual({ mainOldSpaceMb: 64, workerOldGenerationMb: 32 });
    expect(heapSizes(mib(64 * 1024))).toEqual({ mainOldSpaceMb: 4096, workerOldGenerationMb: 256 });
  });

  it("keeps the fixed flags and the 0.5 GiB container's worker heaps without a memory limit", () => {
    expect(heapSizes({ source: "none" })).toEqual({
      mainOldSpaceMb: 192,
      workerOldGenerationMb: 32,
    });
    expect(heapSizes({ source: "cgroup2", cpus: 1 })).toEqual({
      mainOldSpaceMb: 192,
      workerOldGenerationMb: 32,
    });
    expect(collectorNodeFlags({ source: "none" })).toEqual([...COLLECTOR_NODE_FLAGS]);
    expect(COLLECTOR_NODE_FLAGS).toEqual(["--max-old-space-size=192", "--max-semi-space-size=4"]);
  });

  it("caps the main thread's young generation: node accepts the flags and V8 applies them", () => {
    const flags = collectorNodeFlags({ source: "cgroup2", memoryBytes: 512 * 2 ** 20 });
    const printed = execFileSync(process.execPath, [
      ...flags,
      "-e",
      // Objects that survive a few scavenges, as records waiting for a sink do: without the
      // flag V8 grows the new space to 32 MiB for this.
      "const v8 = require('node:v8'); const keep = []; for (let i = 0; i < 2e6; i++) { keep.push({ i, s: String(i) }); if (keep.length > 1e5) keep.length = 0; } const space = v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space'); process.stdout.write(JSON.stringify({ heap: v8.getHeapStatistics().heap_size_limit, newSpace: space.space_size }))",
    ]).toString("utf8");
    const { heap, newSpace } = JSON.parse(printed) as { heap: number; newSpace: number };
    // Two semi-spaces of at most 4 MiB, where node's default lets them grow to 16 MiB each.
    expect(newSpace).toBeLessThanOrEqual(2 * 4 * 2 ** 20);
    expect(heap).toBeGreaterThan(192 * 2 ** 20);
  });

  it("starts parse workers with the worker heap it is given", async () => {
    const sized = new ParseWorkerPool(1, { workerOldGenerationMb: 64 });
    expect(sized.resourceLimits).toEqual({
      maxYoungGenerationSizeMb: 8,
      maxOldGenerationSizeMb: 64,
    });
    const unsized = new ParseWorkerPool(1, { workerOldGenerationMb: undefined });
    expect(unsized.resourceLimits).toEqual({ maxYoungGenerationSizeMb: 8 });
    await Promise.all([sized.close(), unsized.close()]);
  });
});
