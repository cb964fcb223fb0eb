/** A FAKE SecretStore in memory, for tests of code that takes a SecretStore parameter. */
import { registerSecret } from '../../src/redact.js';
import type { HealthResult, SecretMeta, SecretStore } from '../../src/secrets/store.js';

export class MemorySecretStore implements SecretStore {
  readonly kind = 'local' as const;
  readonly values = new Map<string, string>();
  readonly meta = new Map<string, SecretMeta | undefined>();

  constructor(initial: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(initial)) {
      registerSecret(v);
      this.values.set(k, v);
    }
  }
  async get(name: string): Promise<string | undefined> {
    const v = this.values.get(name);
    if (v !== undefined) registerSecret(v);
    return v;
  }
  async put(name: string, value: string, meta?: SecretMeta): Promise<string> {
    registerSecret(value);
    this.values.set(name, value);
    this.meta.set(name, meta);
    return this.refOf(name);
  }
  async exists(name: string): Promise<boolean> {
    return this.values.has(name);
  }
  refOf(name: string): string {
    return `memory:${name}`;
  }
  async healthCheck(): Promise<HealthResult> {
    return { kind: 'ok', detail: 'in memory' };
  }
}
