/**
 * The real 1Password SDK client, loaded only when the onepassword store is used: @1password/sdk
 * carries a 14 MB WASM core that `bootstrap --help` must never pay for.
 *
 * Desktop-app authentication (DesktopAuth) makes the SDK look for the app's IPC library in fixed
 * paths (/usr/bin/1password, /opt/1Password, /snap/bin/1password on Linux). NixOS installs the
 * app in the Nix store instead, so we check those paths first and say so plainly.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { usageError } from '../errors.js';
import type { OpAuth, OpClient } from './onepassword-items.js';

/** The paths @1password/sdk 0.5 searches (dist/shared_lib_core.js), per platform. */
export function desktopLibraryPaths(platform: NodeJS.Platform, home: string): string[] {
  if (platform === 'darwin') {
    return ['/Applications/1Password.app/Contents/Frameworks/libop_sdk_ipc_client.dylib', join(home, 'Applications/1Password.app/Contents/Frameworks/libop_sdk_ipc_client.dylib')];
  }
  if (platform === 'linux') return ['/usr/bin/1password/libop_sdk_ipc_client.so', '/opt/1Password/libop_sdk_ipc_client.so', '/snap/bin/1password/libop_sdk_ipc_client.so'];
  return [];
}

/** Pure: why desktop auth cannot work here, or undefined when the library is in place. */
export function planDesktopAuthProblem(paths: string[], exists: (p: string) => boolean, isNixos: boolean): { message: string; hint: string } | undefined {
  if (paths.some(exists)) return undefined;
  const where = paths.length ? paths.join(', ') : 'any path the SDK knows for this platform';
  return {
    message: `the 1Password desktop app's SDK library was not found (the SDK looks only in ${where})`,
    hint: isNixos
      ? 'NixOS keeps the 1Password app in the Nix store, where the SDK does not look; use a service account instead: export OP_SERVICE_ACCOUNT_TOKEN=ops_…'
      : 'install the 1Password desktop app and turn on Settings → Developer → "Integrate with other apps", or export OP_SERVICE_ACCOUNT_TOKEN=ops_…',
  };
}

/**
 * NB_ONEPASSWORD_SDK: a module path used in place of @1password/sdk, with the same createClient /
 * DesktopAuth exports. Only the test suite sets it (test/fakes/onepassword-sdk-module.ts), to run
 * the real CLI against the fake 1Password, the way fake `nix` and `sops` sit on PATH.
 */
export async function createSdkClient(auth: OpAuth, env: NodeJS.ProcessEnv = process.env): Promise<OpClient> {
  const override = env.NB_ONEPASSWORD_SDK;
  if (override) {
    const fake = (await import(pathToFileURL(override).href)) as { createClient(c: { auth: unknown }): Promise<unknown> };
    return (await fake.createClient({ auth: auth.kind === 'token' ? auth.token : auth })) as OpClient;
  }
  if (auth.kind === 'desktop') {
    const problem = planDesktopAuthProblem(desktopLibraryPaths(process.platform, homedir()), existsSync, existsSync('/etc/NIXOS'));
    if (problem) throw usageError('op-desktop-unavailable', problem.message, problem.hint);
  }
  const sdk = await import('@1password/sdk');
  const client = await sdk.createClient({
    auth: auth.kind === 'token' ? auth.token : new sdk.DesktopAuth(auth.account),
    integrationName: 'nixos-bootstrap',
    integrationVersion: 'v0.1.0',
  });
  // The SDK's enums are string enums, so its Client satisfies our string-typed slice at runtime.
  return client as unknown as OpClient;
}
