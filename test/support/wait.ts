/**
 * Waits until `check` answers something truthy (a workflow's step reached the database, a notice was written) and
 * answers it; fails after `ms` naming what it waited for.
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | null | false>,
  what = 'a condition',
  ms = 30000,
  everyMs = 100,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `eventually` without a description. */
export const waitFor = <T>(check: () => Promise<T | undefined | null | false>, ms = 30000): Promise<T> =>
  eventually(check, 'a condition', ms);
