/**
 * What several workflows share, below all of them (issue 21): the host list of --hosts and the
 * worker pool that runs one piece of work per host, at most N at a time. status, rebuild --hosts
 * and deploy use it; none of them imports another for it.
 */
import { usageError } from '../../errors.js';
import { checkHostName } from '../../render/plan-choices.js';

/** "a,b, c" → ["a","b","c"], validated and without duplicates. Pure. */
export function parseHostList(text: string): string[] {
  const hosts = text.split(',').map((h) => h.trim()).filter(Boolean);
  if (hosts.length === 0) throw usageError('bad-flag', '--hosts needs at least one host name', 'e.g. --hosts web1,web2,db1');
  for (const h of hosts) checkHostName(h);
  if (new Set(hosts).size !== hosts.length) throw usageError('bad-flag', '--hosts names a host twice');
  return hosts;
}

/** Run `work` over `items` with at most `n` at a time, in order of start. */
export async function runPool<T, R>(items: readonly T[], n: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return results;
}
