/**
 * A connect deadline that can pause: while a person reads a host key fingerprint, the clock of
 * `--timeout` must not run out under them.
 */
export interface Deadline {
  pause(): void;
  resume(): void;
  clear(): void;
}

export function startDeadline(ms: number, onExpire: () => void): Deadline {
  let remaining = ms;
  let startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined = setTimeout(onExpire, remaining);
  let done = false;
  return {
    pause() {
      if (done || !timer) return;
      clearTimeout(timer);
      timer = undefined;
      remaining -= Date.now() - startedAt;
    },
    resume() {
      if (done || timer) return;
      startedAt = Date.now();
      timer = setTimeout(onExpire, Math.max(0, remaining));
    },
    clear() {
      done = true;
      clearTimeout(timer);
    },
  };
}
