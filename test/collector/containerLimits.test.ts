import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readContainerLimits, usableCores } from "../../collector/src/containerLimits";
import { defaultParseWorkers } from "../../collector/src/source/parseWorkers";

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
