/**
 * The NixOS release a flake pins, from its flake.lock: the root's `nixpkgs` input (following an
 * input path when it `follows` another), whose original ref names the branch (nixos-25.11,
 * nixos-25.11-small, release-25.11). A new host starts at that release's system.stateVersion;
 * unstable or an unknown ref gives undefined, and the caller keeps its default. Pure.
 */
interface LockNode {
  inputs?: Record<string, string | string[]>;
  original?: { ref?: unknown };
}

export function parseNixpkgsRelease(lockText: string): string | undefined {
  let lock: { nodes?: Record<string, LockNode>; root?: string };
  try {
    lock = JSON.parse(lockText) as typeof lock;
  } catch {
    return undefined;
  }
  const nodes = lock && typeof lock === 'object' ? lock.nodes : undefined;
  if (!nodes || typeof nodes !== 'object') return undefined;
  const resolve = (from: string, input: string | string[], depth = 0): LockNode | undefined => {
    if (depth > 8) return undefined;
    if (typeof input === 'string') return Object.hasOwn(nodes, input) ? nodes[input] : undefined;
    // `follows`: a path of input names from the root
    let node: LockNode | undefined = nodes[typeof lock.root === 'string' ? lock.root : 'root'];
    for (const name of input) {
      const next: string | string[] | undefined = node?.inputs && Object.hasOwn(node.inputs, name) ? node.inputs[name] : undefined;
      if (next === undefined) return undefined;
      node = resolve(from, next, depth + 1);
    }
    return node;
  };
  const rootName = typeof lock.root === 'string' ? lock.root : 'root';
  const root = Object.hasOwn(nodes, rootName) ? nodes[rootName] : undefined;
  const input = root?.inputs && Object.hasOwn(root.inputs, 'nixpkgs') ? root.inputs.nixpkgs : undefined;
  const ref = input === undefined ? undefined : resolve('root', input)?.original?.ref;
  if (typeof ref !== 'string') return undefined;
  const m = /^(?:nixos|release|nixpkgs)-(\d{2}\.\d{2})(?:$|-)/.exec(ref);
  return m?.[1];
}

/** The release pinned by <flake>/flake.lock, or undefined (no lock, unstable, unreadable). */
export async function readNixpkgsRelease(flakeDir: string): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  const text = await readFile(join(flakeDir, 'flake.lock'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : parseNixpkgsRelease(text);
}
