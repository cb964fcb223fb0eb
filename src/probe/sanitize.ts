/**
 * Strings from a target (disk model and serial, DMI, NIC names, facter files) reach the operator's
 * terminal: the wipe warning, the plan, the summary. Control characters in them could rewrite the
 * "This ERASES …" line or write the clipboard (OSC 52), so every string of a report is shown
 * escaped (`\x1b`), once, where a report enters the program. Pure.
 */
// C0 controls, DEL and C1 controls: nothing a hardware string needs.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f-\u009f]/g;

export function escapeControls(s: string): string {
  return s.replace(CONTROL_RE, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The same value with every string escaped; objects and arrays copied. */
export function sanitizeStrings<T>(value: T): T {
  if (typeof value === 'string') return escapeControls(value) as T;
  if (Array.isArray(value)) return value.map((v) => sanitizeStrings(v)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sanitizeStrings(v)])) as T;
  }
  return value;
}
