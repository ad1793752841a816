/**
 * The contract between `npm run docs`, the staleness test and the page modules: every `.ts`
 * file directly in docs/gen except write.ts is one page. It exports `PAGE_PATH`
 * (repository-relative, e.g. "docs/table.md") and `render()`, which returns the page's whole text.
 * A new page needs only a new module there; both the writer and the test find it by listing the
 * folder.
 */
import { readdirSync } from "node:fs";
import path from "node:path";

/** What every page module in docs/gen exports. */
export interface GeneratedPage {
  /** The page's path relative to the repository root, under docs/ and ending in `.md`. */
  readonly PAGE_PATH: string;
  /** The page's full text, ending in a newline. */
  render(): string;
}

/** A page module together with the file it was loaded from (for messages). */
export interface LoadedPage extends GeneratedPage {
  /** The module, repository-relative (e.g. "docs/gen/tableFields.ts"). */
  readonly modulePath: string;
}

/** The folder holding the page modules. */
export const GEN_DIR = path.resolve(__dirname, "..");

/** The repository root. */
export const REPO_ROOT = path.resolve(GEN_DIR, "..", "..");

/** The command that rewrites every generated page; messages name it. */
export const WRITE_COMMAND = "npm run docs";

/** The writer's own file, the one `.ts` file in docs/gen that is not a page. */
const WRITER_FILE = "write.ts";

/** The page modules: every `.ts` file directly in docs/gen except the writer, in name order. */
export function pageModuleFiles(): string[] {
  return readdirSync(GEN_DIR, { withFileTypes: true })
    .filter(
      (entry) =>
        entry.isFile() &&
        entry.name.endsWith(".ts") &&
        !entry.name.endsWith(".d.ts") &&
        entry.name !== WRITER_FILE,
    )
    .map((entry) => entry.name)
    .sort()
    .map((name) => path.join(GEN_DIR, name));
}

function isGeneratedPage(value: unknown): value is GeneratedPage {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Partial<Record<keyof GeneratedPage, unknown>>;
  return typeof candidate.PAGE_PATH === "string" && typeof candidate.render === "function";
}

/**
 * Imports every page module and checks the contract: `PAGE_PATH` under docs/ ending in `.md`,
 * `render` a function, no two modules writing one page. Throws a one-line error naming the
 * module otherwise.
 */
export async function loadPages(): Promise<LoadedPage[]> {
  const pages: LoadedPage[] = [];
  const owners = new Map<string, string>();
  for (const file of pageModuleFiles()) {
    const modulePath = path.relative(REPO_ROOT, file).split(path.sep).join("/");
    const loaded: unknown = await import(file);
    if (!isGeneratedPage(loaded)) {
      throw new Error(
        `${modulePath} must export PAGE_PATH (a string) and render() (the page's text): every .ts file in docs/gen except ${WRITER_FILE} is a page`,
      );
    }
    const pagePath = loaded.PAGE_PATH;
    if (
      !pagePath.startsWith("docs/") ||
      !pagePath.endsWith(".md") ||
      pagePath.split("/").includes("..")
    ) {
      throw new Error(
        `${modulePath}: PAGE_PATH must be a repository-relative path under docs/ ending in .md (got "${pagePath}")`,
      );
    }
    const owner = owners.get(pagePath);
    if (owner !== undefined) {
      throw new Error(`${modulePath} and ${owner} both write ${pagePath}: one module per page`);
    }
    owners.set(pagePath, modulePath);
    pages.push({ PAGE_PATH: pagePath, render: () => loaded.render(), modulePath });
  }
  return pages;
}

/** Renders a page and checks that it is text ending in exactly one newline. */
export function renderPage(page: LoadedPage): string {
  const text = page.render();
  if (typeof text !== "string" || !text.endsWith("\n") || text.endsWith("\n\n")) {
    throw new Error(
      `${page.modulePath}: render() must return the page's text ending in one newline`,
    );
  }
  return text;
}
