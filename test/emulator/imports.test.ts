/**
 * The emulator's import graph: it stands alone (it imports nothing from the code it tests; only
 * test/emulator/contract.test.ts compares the two) and has no import cycle.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..", "..");
const EMULATOR_DIR = path.join(ROOT, "emulator");
const EMULATOR_SRC = path.join(EMULATOR_DIR, "src");

/** Every `.ts` file under `dir`. */
function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tsFiles(full));
    else if (full.endsWith(".ts")) out.push(full);
  }
  return out.sort();
}

/** Module specifiers of static imports, re-exports (type-only included) and dynamic imports. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\s[^;=()]*?\sfrom\s*["']([^"']+)["']/gms,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** The file a relative specifier names (`x.ts` or `x/index.ts`), or undefined for a package. */
function resolveRelative(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not this candidate; try the next.
    }
  }
  return base;
}

/** Every cycle of a directed graph, each as the path that closes it (first node repeated last). */
function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const onPath: string[] = [];
  const visit = (node: string): void => {
    const at = onPath.indexOf(node);
    if (at >= 0) {
      cycles.push([...onPath.slice(at), node]);
      return;
    }
    if (done.has(node)) return;
    onPath.push(node);
    for (const next of graph.get(node) ?? []) visit(next);
    onPath.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) visit(node);
  return cycles;
}

function emulatorGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(EMULATOR_SRC)) {
    const targets = specifiers(readFileSync(file, "utf8"))
      .map((s) => resolveRelative(file, s))
      .filter((target): target is string => target !== undefined);
    graph.set(file, targets);
  }
  return graph;
}

const relative = (file: string) => path.relative(ROOT, file);

describe("the emulator's imports", () => {
  it("stay inside emulator/: the test double takes nothing from the code it tests", () => {
    const outside: string[] = [];
    for (const [file, targets] of emulatorGraph()) {
      for (const target of targets) {
        if (!target.startsWith(`${EMULATOR_DIR}${path.sep}`)) {
          outside.push(`${relative(file)} -> ${relative(target)}`);
        }
      }
    }
    expect(outside).toEqual([]);
  });

  it("form no cycle", () => {
    const graph = emulatorGraph();
    expect(graph.size).toBeGreaterThan(20);
    expect(findCycles(graph).map((cycle) => cycle.map(relative).join(" -> "))).toEqual([]);
  });
});

describe("the import scan itself", () => {
  it("reads static, type-only, multi-line, re-export and dynamic imports", () => {
    const source = [
      'import { a } from "./a";',
      'import type { B } from "./b";',
      "import {\n  c,\n  d,\n} from './c';",
      'export { e } from "./e";',
      'export type { F } from "../f";',
      'import "./side-effect";',
      'const g = await import("./g");',
      'const text = "not an import from ./h";',
    ].join("\n");
    expect(specifiers(source).sort()).toEqual(
      ["./a", "./b", "./c", "./e", "../f", "./side-effect", "./g"].sort(),
    );
  });

  it("finds a cycle through three modules and none in a tree", () => {
    const cyclic = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(findCycles(cyclic)).toEqual([["a", "b", "c", "a"]]);
    const tree = new Map([
      ["a", ["b", "c"]],
      ["b", ["c"]],
      ["c", []],
    ]);
    expect(findCycles(tree)).toEqual([]);
  });
});
