/** Reads the YAML config file; syntax errors become `ConfigError`s with line and column. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '@junction/broker-core';
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';

/** A parsed config source that can point back at where a key was written. */
export interface YamlSource {
  /** The document as plain data; an empty document is `{}`. */
  readonly data: unknown;
  /** `name:line:column` of the value at a path, or of its nearest parent present in the file. */
  locate(segments: readonly string[]): string | undefined;
}

/** Parses YAML text; `name` (usually the file name) prefixes positions in messages. */
export function parseYaml(text: string, name: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const error = doc.errors[0];
  if (error) {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    throw new ConfigError('', `YAML syntax error in ${name} at line ${line}, column ${col}: ${firstLine(error.message)}`);
  }
  const data: unknown = doc.toJS({ maxAliasCount: 100 }) ?? {};
  return { data, locate: (segments) => locate(doc, lineCounter, name, segments) };
}

/** Reads and parses a YAML file. A missing or unreadable file is a `ConfigError`. */
export function readYamlFile(file: string): YamlSource {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new ConfigError('', `cannot read config file ${file}: ${why}`, { cause: err });
  }
  return parseYaml(text, file);
}

function locate(doc: Document, lineCounter: LineCounter, name: string, segments: readonly string[]): string | undefined {
  for (let n = segments.length; n >= 0; n--) {
    const node: unknown = n === 0 ? doc.contents : doc.getIn(segments.slice(0, n), true);
    if (isNode(node) && node.range) {
      const { line, col } = lineCounter.linePos(node.range[0]);
      return `${name}:${line}:${col}`;
    }
  }
  return undefined;
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
