/**
 * The one matcher of restore patterns (`--path` in the CLI, `path` of the restore plan and of a
 * NAS restore), shared by the CLI, the server and the portal so that a pattern selects the same
 * files everywhere.
 *
 * The rule: case-insensitive (cards are FAT/exFAT); `*` any run of characters within a name,
 * `?` one character, `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one character of a class, `**` as a
 * whole path segment any number of folders, `\` takes the next character literally. A pattern
 * without `/` matches a file or folder name at any depth (`*.JPG`, `100CANON`); a pattern with
 * `/` matches the path on the card from its start (`DCIM/**\/*.CR3`). A pattern that matches a
 * folder selects everything in it. Names starting with a dot are matched like any other.
 * No extended globs (`+(…)`, `@(…)`, `!(…)`, `*(…)`, `?(…)`) and no braces: their characters are
 * refused (escape them with `\` to mean them literally), so a pattern never means something else
 * in one place than in another.
 *
 * Matching simulates the pattern's automaton over the path once (a set of states, no
 * backtracking): time is at most the path's length times the pattern's, whatever the pattern.
 */

/** Longest restore pattern accepted. */
export const RESTORE_PATTERN_MAX_LENGTH = 512;
/** Most wildcards (`*`, `**`, `?`, classes) in one pattern. */
export const RESTORE_PATTERN_MAX_WILDCARDS = 32;

/** A pattern that is not a valid restore pattern; `message` says why, for the person who typed it. */
export class RestorePatternError extends Error {
  constructor(
    readonly pattern: string,
    reason: string,
  ) {
    super(`Invalid restore pattern ${JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern)}: ${reason}`);
    this.name = 'RestorePatternError';
  }
}

type Token =
  | { kind: 'char'; ch: string }
  | { kind: 'one' }
  | { kind: 'class'; negated: boolean; items: (string | [number, number])[] }
  /** Zero or more characters of one name (never `/`). */
  | { kind: 'star' }
  /** Zero or more whole folders: "" or anything ending with `/`. */
  | { kind: 'folders' }
  /** Anything at all: the pattern `**` alone. */
  | { kind: 'all' };

export interface RestoreMatcher {
  readonly pattern: string;
  /** True when the pattern selects the file at `path` (relative to its card, `/`-separated). */
  matches(path: string): boolean;
}

const fold = (s: string): string => s.toLowerCase();

/** Compiles a pattern; throws RestorePatternError when it is not one. */
export function compileRestorePattern(pattern: string): RestoreMatcher {
  const p = pattern.normalize('NFC');
  if (!p.trim()) throw new RestorePatternError(pattern, 'it is empty');
  if (p.length > RESTORE_PATTERN_MAX_LENGTH)
    throw new RestorePatternError(pattern, `it is ${p.length} characters long; at most ${RESTORE_PATTERN_MAX_LENGTH} are accepted`);
  if (p.includes('\0')) throw new RestorePatternError(pattern, 'it contains a NUL character');
  if (p.startsWith('/')) throw new RestorePatternError(pattern, 'it starts with "/"; paths are relative to the card (e.g. DCIM/**/*.CR3)');

  const chars = Array.from(p);
  const tokens: Token[] = [];
  let wildcards = 0;
  const wildcard = () => {
    if (++wildcards > RESTORE_PATTERN_MAX_WILDCARDS)
      throw new RestorePatternError(pattern, `it has more than ${RESTORE_PATTERN_MAX_WILDCARDS} wildcards (*, **, ?, [...])`);
  };
  const hasSlash = chars.some((c, i) => c === '/' && chars[i - 1] !== '\\');
  // A pattern without "/" is a name at any depth.
  if (!hasSlash) tokens.push({ kind: 'folders' });

  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '\\') {
      if (i + 1 >= chars.length) throw new RestorePatternError(pattern, 'it ends with "\\" (escape what?)');
      tokens.push({ kind: 'char', ch: fold(chars[++i]) });
      continue;
    }
    if ('+@!*?'.includes(c) && chars[i + 1] === '(')
      throw new RestorePatternError(
        pattern,
        `"${c}(" is extended-glob syntax, which is not supported (write "${c}\\(" for the characters)`,
      );
    if (c === '{' || c === '}')
      throw new RestorePatternError(pattern, `braces are not supported (write "\\${c}" for the character; give several patterns instead)`);
    if (c === '*') {
      let j = i;
      while (chars[j + 1] === '*') j++;
      const segmentStart = i === 0 || chars[i - 1] === '/';
      const segmentEnd = j + 1 >= chars.length || chars[j + 1] === '/';
      wildcard();
      if (j > i && segmentStart && segmentEnd) {
        // "**" as a whole segment: "a/**/b" (zero or more folders), "a/**" (everything below), "**".
        if (j + 1 >= chars.length) {
          // Trailing: "a/**" is the folder "a", which selects what is in it; "**" alone is everything.
          if (i === 0) {
            tokens.length = 0;
            tokens.push({ kind: 'all' });
          }
        } else {
          tokens.push({ kind: 'folders' });
          j++; // the "/" after "**" belongs to it
        }
      } else if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' });
      i = j;
      continue;
    }
    if (c === '?') {
      wildcard();
      tokens.push({ kind: 'one' });
      continue;
    }
    if (c === '[') {
      const parsed = parseClass(chars, i);
      if (parsed) {
        wildcard();
        tokens.push(parsed.token);
        i = parsed.end;
        continue;
      }
      throw new RestorePatternError(pattern, 'it has a "[" without its "]" (write "\\[" for the character)');
    }
    if (c === '/' && tokens[tokens.length - 1]?.kind === 'char' && (tokens[tokens.length - 1] as { ch: string }).ch === '/') continue; // "a//b"
    tokens.push({ kind: 'char', ch: fold(c) });
  }
  // "DCIM/" means the folder.
  while (tokens.length && tokens[tokens.length - 1].kind === 'char' && (tokens[tokens.length - 1] as { ch: string }).ch === '/')
    tokens.pop();
  if (!tokens.length) throw new RestorePatternError(pattern, 'it matches nothing');
  return { pattern, matches: (path: string) => run(tokens, path) };
}

/** True when any of the patterns selects the path (compile them once with compileRestorePattern for many paths). */
export function restorePatternsSelect(matchers: readonly RestoreMatcher[], path: string): boolean {
  return matchers.some((m) => m.matches(path));
}

function parseClass(chars: string[], open: number): { token: Token; end: number } | null {
  let i = open + 1;
  let negated = false;
  if (chars[i] === '!' || chars[i] === '^') {
    negated = true;
    i++;
  }
  const items: (string | [number, number])[] = [];
  let first = true;
  for (; i < chars.length; i++) {
    let c = chars[i];
    if (c === ']' && !first) return { token: { kind: 'class', negated, items }, end: i };
    first = false;
    if (c === '/') return null;
    if (c === '\\' && i + 1 < chars.length) c = chars[++i];
    if (chars[i + 1] === '-' && i + 2 < chars.length && chars[i + 2] !== ']') {
      let hi = chars[i + 2];
      let next = i + 2;
      if (hi === '\\' && i + 3 < chars.length) hi = chars[(next = i + 3)];
      const a = c.codePointAt(0)!;
      const b = hi.codePointAt(0)!;
      if (a <= b) items.push([a, b]);
      i = next;
      continue;
    }
    items.push(fold(c));
  }
  return null;
}

function classHas(t: Extract<Token, { kind: 'class' }>, ch: string): boolean {
  if (ch === '/') return false;
  const lower = fold(ch);
  const upper = ch.toUpperCase();
  const cps = [ch.codePointAt(0)!, lower.codePointAt(0)!, upper.codePointAt(0)!];
  const hit = t.items.some((it) => (typeof it === 'string' ? it === lower : cps.some((cp) => cp >= it[0] && cp <= it[1])));
  return hit !== t.negated;
}

/**
 * Runs the automaton: state i means "the tokens before i matched so far"; a folders token also
 * has an inner state (inside a folder name it skips). Each character moves the whole set of
 * states at once, so no character is read twice. The path (or one of its folders) matches when
 * the end state is reached at the end of the path or just before a "/".
 */
function run(tokens: readonly Token[], rawPath: string): boolean {
  const n = tokens.length;
  if (tokens[0].kind === 'all') return true;
  const size = 2 * n + 1;
  // [0, n]: before token i (n: all matched); n + 1 + i: inside the folders that token i skips.
  // Sparse sets (a list plus a stamp per state): a step costs the live states, not the pattern's length.
  let cur = new Int32Array(size);
  let nxt = new Int32Array(size);
  let curLen: number;
  let nxtLen = 0;
  const stamp = new Uint32Array(size);
  let gen = 1;
  const add = (s: number) => {
    if (stamp[s] === gen) return;
    stamp[s] = gen;
    nxt[nxtLen++] = s;
    // A star and a folders token may match nothing: their next state is live too.
    if (s < n && (tokens[s].kind === 'star' || tokens[s].kind === 'folders')) add(s + 1);
  };
  add(0);
  [cur, nxt, curLen, nxtLen] = [nxt, cur, nxtLen, 0];
  let done = stamp[n] === gen;
  for (const raw of Array.from(rawPath.normalize('NFC'))) {
    if (raw === '/' && done) return true; // a folder of the path matched
    const ch = fold(raw);
    gen++;
    for (let k = 0; k < curLen; k++) {
      const s = cur[k];
      if (s > n) {
        const i = s - n - 1; // inside the folders of token i
        add(raw === '/' ? i : s);
        continue;
      }
      if (s === n) continue;
      const t = tokens[s];
      switch (t.kind) {
        case 'char':
          if (t.ch === ch) add(s + 1);
          break;
        case 'one':
          if (raw !== '/') add(s + 1);
          break;
        case 'class':
          if (classHas(t, raw)) add(s + 1);
          break;
        case 'star':
          if (raw !== '/') add(s);
          break;
        case 'folders':
          if (raw !== '/') add(n + 1 + s);
          break;
        case 'all':
          break;
      }
    }
    if (!nxtLen) return false;
    done = stamp[n] === gen;
    [cur, nxt, curLen, nxtLen] = [nxt, cur, nxtLen, 0];
  }
  return done;
}
