/**
 * Module lines as dotted bindings: `[['boot', 'loader', 'grub', 'enable'], true]`. Generated
 * modules are written this way (as nixos-generate-config does) so contributions from the
 * hardware scan, a profile and a layout can be merged without two `boot = { … }` blocks colliding.
 */
import { isNixRaw, nixEntries, toNix, type NixAttrs, type NixEntries, type NixValue } from './serialize.js';

export type NixBinding = readonly [readonly string[], NixValue];

const isPlainObject = (v: unknown): v is NixAttrs =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !isNixRaw(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * Nested plain objects → one binding per leaf. Lists, scalars, raw code and empty sets are leaves.
 * `{ hardware: { nvidia: { open: true } } }` → `[[['hardware','nvidia','open'], true]]`.
 */
export function flattenAttrs(attrs: NixAttrs, prefix: readonly string[] = []): NixBinding[] {
  const out: NixBinding[] = [];
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const path = [...prefix, k];
    if (isPlainObject(v) && Object.keys(v).length > 0) out.push(...flattenAttrs(v, path));
    else out.push([path, v]);
  }
  return out;
}

/**
 * Concatenate binding lists, refusing contradictions: the same path twice with different values,
 * or a path that is both a leaf and a parent (`a.b = 1` and `a.b.c = 2`). Identical repeats are
 * dropped. Throws an Error naming the path and both sources.
 */
export function mergeBindings(...groups: Array<{ source: string; bindings: readonly NixBinding[] }>): NixBinding[] {
  const seen = new Map<string, { value: string; source: string }>();
  const out: NixBinding[] = [];
  for (const { source, bindings } of groups) {
    for (const [path, value] of bindings) {
      const key = path.join('\u0000');
      const rendered = toNix(value);
      const prev = seen.get(key);
      if (prev) {
        if (prev.value === rendered) continue;
        throw new Error(`${path.join('.')} is set by both ${prev.source} and ${source} with different values`);
      }
      for (const [other, info] of seen) {
        const o = other.split('\u0000');
        const shorter = o.length < path.length ? o : [...path];
        const longer = o.length < path.length ? [...path] : o;
        if (shorter.length !== longer.length && shorter.every((s, i) => s === longer[i])) {
          throw new Error(`${path.join('.')} (${source}) conflicts with ${o.join('.')} (${info.source})`);
        }
      }
      seen.set(key, { value: rendered, source });
      out.push([path, value]);
    }
  }
  return out;
}

/** Bindings → an attribute set value with dotted keys, in the given order. */
export const bindingsToNix = (bindings: readonly NixBinding[]): NixEntries => nixEntries(bindings.map(([p, v]) => [p, v] as const));
