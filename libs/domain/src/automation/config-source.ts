/**
 * Where things are in a JSON configuration file, so a bad entry can be reported by line: the line
 * of a JSON syntax error, and the line where each element of a top-level array property starts.
 */
export function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** The line of a JSON.parse error ("… at position N" / "(line L column C)"), when the message says. */
export function jsonErrorLine(text: string, error: Error): number | undefined {
  const lc = /line (\d+) column \d+/.exec(error.message);
  if (lc) return Number(lc[1]);
  const pos = /position (\d+)/.exec(error.message);
  return pos ? lineOf(text, Number(pos[1])) : undefined;
}

/**
 * Start offsets of the elements of the array at `key` in the top-level object, or of the
 * top-level array itself when `key` is undefined. A small scanner: strings, nesting, commas.
 */
export function arrayElementOffsets(text: string, key?: string): number[] {
  let i = 0;
  const skipWs = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const skipString = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
  };
  const skipValue = () => {
    skipWs();
    if (text[i] === '"') return skipString();
    if (text[i] === '{' || text[i] === '[') {
      let depth = 0;
      while (i < text.length) {
        const c = text[i];
        if (c === '"') {
          skipString();
          continue;
        }
        if (c === '{' || c === '[') depth++;
        if (c === '}' || c === ']') {
          depth--;
          if (depth === 0) {
            i++;
            return;
          }
        }
        i++;
      }
      return;
    }
    while (i < text.length && !/[,}\]\s]/.test(text[i])) i++;
  };
  const elementsHere = (): number[] => {
    const offsets: number[] = [];
    skipWs();
    if (text[i] !== '[') return offsets;
    i++;
    for (;;) {
      skipWs();
      if (i >= text.length || text[i] === ']') return offsets;
      offsets.push(i);
      skipValue();
      skipWs();
      if (text[i] === ',') i++;
    }
  };
  skipWs();
  if (key === undefined) return elementsHere();
  if (text[i] !== '{') return [];
  i++;
  for (;;) {
    skipWs();
    if (i >= text.length || text[i] === '}') return [];
    const start = i;
    skipString();
    const name = JSON.parse(text.slice(start, i)) as string;
    skipWs();
    i++; // colon
    skipWs();
    if (name === key) return elementsHere();
    skipValue();
    skipWs();
    if (text[i] === ',') i++;
  }
}

/** A configuration file problem, with the line it is on when known. */
export class ConfigFileError extends Error {
  constructor(
    readonly line: number | undefined,
    readonly detail: string,
  ) {
    super(line !== undefined ? `line ${line}: ${detail}` : detail);
    this.name = 'ConfigFileError';
  }
}

/** Parses JSON, turning a syntax error into a ConfigFileError with its line. */
export function parseJsonConfig(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(jsonErrorLine(text, error as Error), `not valid JSON (${(error as Error).message})`);
  }
}

/** Runs `check` on each element of an array property; a failure names the element's line. */
export function eachWithLine<T>(text: string, key: string | undefined, items: unknown[], check: (item: unknown, index: number) => T): T[] {
  const offsets = arrayElementOffsets(text, key);
  return items.map((item, index) => {
    try {
      return check(item, index);
    } catch (error) {
      if (error instanceof ConfigFileError) throw error;
      const line = offsets[index] !== undefined ? lineOf(text, offsets[index]) : undefined;
      throw new ConfigFileError(line, `${key ?? ''}[${index}]: ${(error as Error).message}`);
    }
  });
}
