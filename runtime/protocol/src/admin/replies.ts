/** Shapes of admin replies that clients read field by field (runtime/spec/admin.md §Commands). */

/** One live token as `token.list` shows it. */
export interface TokenSummary {
  id: string;
  holder: string;
  audience: string;
  resource: string;
  action: string;
  /** ISO time. */
  expiry: string;
  uses: number;
  maxUses: number;
  parent: string | null;
}
