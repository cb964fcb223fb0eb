/**
 * Add a host's SSH public key to an agenix secrets.nix of the usual shape (the agenix README's):
 *
 *   let
 *     admin = "ssh-ed25519 …";
 *     web1 = "ssh-ed25519 …";          ← added
 *     systems = [ db1 web1 ];           ← host added to a `systems`/`hosts`/`servers` list, and
 *   in {
 *     "web1/wifi.age".publicKeys = [ admin web1 ];   ← to rules whose file names the host (unless
 *                                                       they already take `++ systems`)
 *   }
 *
 * Edits are splices into the original text; anything else about the file is left alone. A file of
 * another shape is not touched: the caller prints the lines to add instead.
 */
export interface AgenixPlan {
  content: string;
  changed: boolean;
  /** What to add by hand when the file's shape is not the usual one. */
  notes: string[];
}

const LIST_NAMES = ['systems', 'hosts', 'servers', 'machines'];

/** A Nix identifier for the host (identifiers cannot start with a digit). */
export function nixNameFor(host: string): string {
  const id = host.replace(/[^A-Za-z0-9_'-]/g, '_');
  return /^[A-Za-z_]/.test(id) ? id : `host_${id}`;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Splice {
  at: number;
  remove: number;
  insert: string;
}

export function planAgenix(text: string, host: string, publicKey: string, file = 'secrets/secrets.nix'): AgenixPlan {
  const name = nixNameFor(host);
  const key = publicKey.trim().split(/\s+/).slice(0, 2).join(' ');
  const shape = /^(\s*(?:#[^\n]*\n\s*)*)let\b([\s\S]*?)\bin\s*\{([\s\S]*)\}\s*$/.exec(text);
  if (!shape) {
    return {
      content: text,
      changed: false,
      notes: [`${file} is not in the usual \`let … in { … }\` shape; add by hand:\n  ${name} = "${key}";   # in the let\n  and ${name} to the publicKeys of ${host}'s secrets`],
    };
  }
  const letStart = shape[1]!.length + 3;
  const letBody = shape[2]!;
  const bodyStart = letStart + letBody.length; // where `in {` begins
  const splices: Splice[] = [];

  // 1. The binding.
  const binding = new RegExp(`^([ \\t]*)${escapeRe(name)}\\s*=\\s*"([^"]*)"\\s*;`, 'm').exec(letBody);
  if (binding) {
    if (binding[2]!.trim() !== key) {
      const at = letStart + binding.index + binding[0].indexOf('"') + 1;
      splices.push({ at, remove: binding[2]!.length, insert: key });
    }
  } else {
    const keyLines = [...letBody.matchAll(/^([ \t]*)[A-Za-z_][\w'-]*\s*=\s*"ssh-[^"]*"\s*;[^\n]*\n/gm)];
    const last = keyLines[keyLines.length - 1];
    const indent = last?.[1] ?? '  ';
    const at = last ? letStart + last.index + last[0].length : letStart + (letBody.startsWith('\n') ? 1 : 0);
    splices.push({ at, remove: 0, insert: `${indent}${name} = "${key}";\n` });
  }

  // 2. The references: a systems-like list in the let, and the rules whose file names the host
  //    (`"web1/wifi.age".publicKeys = [ admin ];` does not read the list, so it needs the name too).
  const listRe = new RegExp(`\\b(${LIST_NAMES.join('|')})\\s*=\\s*\\[([^\\]]*)\\]`);
  const list = listRe.exec(letBody);
  const notes: string[] = [];
  if (list) {
    const items = list[2]!.trim().split(/\s+/);
    if (!items.includes(name)) {
      const close = letStart + list.index + list[0].length - 1;
      splices.push({ at: close, remove: 0, insert: list[2]!.endsWith(' ') ? `${name} ` : ` ${name}` });
    }
  }
  const hostRe = new RegExp(`(^|[^A-Za-z0-9_-])${escapeRe(host)}($|[^A-Za-z0-9_-])`);
  const viaList = list ? new RegExp(`\\+\\+\\s*${escapeRe(list[1]!)}\\b`) : undefined;
  const body = text.slice(0, text.lastIndexOf('}'));
  const ruleRe = /"([^"]+\.age)"\s*\.\s*publicKeys\s*=\s*\[([^\]]*)\]([^;]*)/g;
  let found = false;
  for (const m of body.matchAll(ruleRe)) {
    if (m.index! < bodyStart || !hostRe.test(m[1]!)) continue;
    found = true;
    if (m[2]!.trim().split(/\s+/).includes(name) || viaList?.test(m[3]!)) continue; // named, or `[ … ] ++ systems`
    const close = m.index! + m[0].length - m[3]!.length - 1;
    splices.push({ at: close, remove: 0, insert: m[2]!.endsWith(' ') ? `${name} ` : ` ${name}` });
  }
  if (!list && !found) notes.push(`no systems list and no secret named after ${host} in ${file}; add ${name} to the publicKeys of the secrets ${host} needs`);

  let content = text;
  for (const s of splices.sort((a, b) => b.at - a.at)) content = content.slice(0, s.at) + s.insert + content.slice(s.at + s.remove);
  return { content, changed: content !== text, notes };
}
