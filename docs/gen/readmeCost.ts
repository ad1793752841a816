/**
 * README.md's "Cost" table: monthly totals for 10k, 1M and 10M records a day in both collector
 * modes, from the same estimate as docs/cost.md and `npm run cost`.
 */
import { DEFAULT_PRICES } from "../../scripts/cost/estimate";
import { costTableLines } from "./lib/costTable";

export const PAGE_PATH = "README.md";
export const REGION = "cost";

export function render(): string {
  const lines = [
    `Monthly ${DEFAULT_PRICES.currency} for one tenant at ${DEFAULT_PRICES.region} list prices of ${DEFAULT_PRICES.asOf}, Analytics table plan (compute is the Container Apps part, after the free grant):`,
    "",
    ...costTableLines([
      { mode: "always-on", tablePlan: "analytics" },
      { mode: "scheduled", tablePlan: "analytics" },
    ]),
  ];
  return `${lines.join("\n")}\n`;
}
