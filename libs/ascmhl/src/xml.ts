/**
 * A small XML 1.0 writer and parser, enough for ASC MHL files and no more.
 *
 * The writer escapes every text and attribute value and refuses characters XML 1.0 cannot carry
 * (C0 controls other than tab/newline/carriage return, U+FFFE, U+FFFF, lone surrogates).
 *
 * The parser reads UTF-8 only, resolves namespaces, decodes the five predefined entities and
 * character references, skips comments and processing instructions, and refuses a DOCTYPE
 * (no DTD, so no entity expansion from a hostile file), unknown entities, mismatched tags and
 * content after the root element. Mixed content is kept as the element's concatenated text.
 */
import { MhlError } from './errors';

const INVALID_XML_CHAR =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Throws when `value` holds a character that no XML 1.0 document can contain, even escaped. */
export function assertXmlCharacters(value: string, what: string): void {
  const m = INVALID_XML_CHAR.exec(value);
  if (m) {
    const code = m[0].charCodeAt(0).toString(16).padStart(4, '0');
    throw new MhlError('invalid-input', `${what} contains U+${code.toUpperCase()}, which an XML file cannot hold`);
  }
}

export function escapeXmlText(value: string): string {
  return value.replace(/[&<>\r]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;'));
}

export function escapeXmlAttribute(value: string): string {
  return value.replace(/[&<>"\t\n\r]/g, (c) => {
    switch (c) {
      case '&':
        return '&amp;';
      case '<':
        return '&lt;';
      case '>':
        return '&gt;';
      case '"':
        return '&quot;';
      case '\t':
        return '&#9;';
      case '\n':
        return '&#10;';
      default:
        return '&#13;';
    }
  });
}

export type XmlAttributes = ReadonlyArray<readonly [name: string, value: string | undefined]>;

/** Builds an indented document line by line; attributes with an undefined value are left out. */
export class XmlBuilder {
  private readonly lines: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  private readonly open: string[] = [];

  private indent(): string {
    return '  '.repeat(this.open.length);
  }

  private tag(name: string, attributes: XmlAttributes): string {
    let s = name;
    for (const [key, value] of attributes) {
      if (value === undefined) continue;
      assertXmlCharacters(value, `attribute ${key} of <${name}>`);
      s += ` ${key}="${escapeXmlAttribute(value)}"`;
    }
    return s;
  }

  start(name: string, attributes: XmlAttributes = []): this {
    this.lines.push(`${this.indent()}<${this.tag(name, attributes)}>`);
    this.open.push(name);
    return this;
  }

  element(name: string, text: string, attributes: XmlAttributes = []): this {
    assertXmlCharacters(text, `the text of <${name}>`);
    this.lines.push(`${this.indent()}<${this.tag(name, attributes)}>${escapeXmlText(text)}</${name}>`);
    return this;
  }

  end(name: string): this {
    const top = this.open.pop();
    if (top !== name) throw new Error(`XmlBuilder: closing <${name}> while <${top ?? 'nothing'}> is open`);
    this.lines.push(`${this.indent()}</${name}>`);
    return this;
  }

  toString(): string {
    if (this.open.length) throw new Error(`XmlBuilder: <${this.open.join('>, <')}> still open`);
    return this.lines.join('\n') + '\n';
  }
}

// ---------------------------------------------------------------------------------------------
// Parser

export interface XmlElement {
  /** Local name (without prefix). */
  name: string;
  /** Namespace URI, or null when the element is in no namespace. */
  namespace: string | null;
  /** Attributes by their name as written (`size`, `xml:lang`); namespace declarations are not included. */
  attributes: Record<string, string>;
  children: XmlElement[];
  /** All direct text and CDATA content, entity-decoded, not trimmed. */
  text: string;
  /** 1-based line of the start tag, for error messages. */
  line: number;
}

export interface XmlParseOptions {
  /** Deepest element nesting accepted (default 256). */
  maxDepth?: number;
  /** Name of the source, for error messages. */
  source?: string;
}

const NAME = /[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*(?::[A-Za-z_\u00c0-\uffff][\w.\-\u00b7\u00c0-\uffff]*)?/y;
const XML_NS = 'http://www.w3.org/XML/1998/namespace';

/** Decodes bytes as strict UTF-8 (a BOM is dropped); a string is taken as it is. */
export function decodeUtf8(input: string | Uint8Array, source = 'document'): string {
  if (typeof input === 'string') return input.startsWith('\ufeff') ? input.slice(1) : input;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(input);
  } catch {
    throw new MhlError('invalid-xml', `${source} is not valid UTF-8`);
  }
}

interface OpenElement {
  element: XmlElement;
  qname: string;
  prefix: string | null;
  scope: Map<string, string>;
}

export function parseXml(input: string | Uint8Array, options: XmlParseOptions = {}): XmlElement {
  const source = options.source ?? 'document';
  const maxDepth = options.maxDepth ?? 256;
  const s = decodeUtf8(input, source).replace(/\r\n?/g, '\n');
  let pos = 0;

  // Line numbers for messages; counted incrementally since elements come in document order.
  let countedTo = 0;
  let countedLines = 1;
  const lineAt = (at: number): number => {
    if (at < countedTo) {
      countedTo = 0;
      countedLines = 1;
    }
    for (let i = s.indexOf('\n', countedTo); i !== -1 && i < at; i = s.indexOf('\n', i + 1)) countedLines++;
    countedTo = at;
    return countedLines;
  };
  const fail = (message: string, at = pos): never => {
    throw new MhlError('invalid-xml', `${source}, line ${lineAt(at)}: ${message}`);
  };

  const invalid = INVALID_XML_CHAR.exec(s);
  if (invalid)
    fail(`character U+${invalid[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`, invalid.index);

  const decodeEntities = (raw: string, at: number): string => {
    if (!raw.includes('&')) return raw;
    return raw.replace(/&([^;&\s]*);?/g, (whole: string, ref: string) => {
      if (!whole.endsWith(';')) return fail(`"&" must be written as &amp;`, at);
      switch (ref) {
        case 'lt':
          return '<';
        case 'gt':
          return '>';
        case 'amp':
          return '&';
        case 'quot':
          return '"';
        case 'apos':
          return "'";
      }
      const m = /^#(?:x([0-9a-fA-F]+)|([0-9]+))$/.exec(ref);
      if (!m) return fail(`unknown entity &${ref}; (only the five XML entities and character references are accepted)`, at);
      const code = m[1] !== undefined ? parseInt(m[1], 16) : parseInt(m[2], 10);
      const ok =
        code === 0x9 ||
        code === 0xa ||
        code === 0xd ||
        (code >= 0x20 && code <= 0xd7ff) ||
        (code >= 0xe000 && code <= 0xfffd) ||
        (code >= 0x10000 && code <= 0x10ffff);
      if (!ok) return fail(`character reference &${ref}; is not an XML character`, at);
      return String.fromCodePoint(code);
    });
  };

  const readName = (): string => {
    NAME.lastIndex = pos;
    const m = NAME.exec(s);
    if (!m) return fail('a name was expected');
    pos = NAME.lastIndex;
    return m[0];
  };
  const skipSpace = (): void => {
    while (pos < s.length && (s[pos] === ' ' || s[pos] === '\n' || s[pos] === '\t')) pos++;
  };
  const skipPast = (end: string, what: string): void => {
    const i = s.indexOf(end, pos);
    if (i === -1) fail(`unterminated ${what}`);
    pos = i + end.length;
  };

  /** Comments, processing instructions and whitespace outside the root element. */
  const skipMisc = (): void => {
    for (;;) {
      skipSpace();
      if (s.startsWith('<!--', pos)) skipPast('-->', 'comment');
      else if (s.startsWith('<!DOCTYPE', pos) || s.startsWith('<!doctype', pos)) fail('a DOCTYPE is not accepted in an MHL file');
      else if (s.startsWith('<?', pos)) skipPast('?>', 'processing instruction');
      else return;
    }
  };

  // XML declaration: only UTF-8.
  if (s.startsWith('<?xml', pos) && /\s/.test(s[pos + 5] ?? '')) {
    const end = s.indexOf('?>', pos);
    if (end === -1) fail('unterminated XML declaration');
    const decl = s.slice(pos, end);
    const enc = /encoding\s*=\s*["']([^"']*)["']/.exec(decl);
    if (enc && !/^utf-?8$/i.test(enc[1])) fail(`encoding "${enc[1]}" is not supported (MHL files are UTF-8)`);
    pos = end + 2;
  }
  skipMisc();
  if (s[pos] !== '<') fail('the root element was expected');

  const stack: OpenElement[] = [];
  let root: XmlElement | undefined;
  const rootScope = new Map<string, string>([['xml', XML_NS]]);

  const resolve = (prefix: string | null, scope: Map<string, string>, qname: string, at: number): string | null => {
    if (prefix === null) return scope.get('') || null;
    const uri = scope.get(prefix);
    if (uri === undefined) return fail(`namespace prefix "${prefix}" of <${qname}> is not declared`, at);
    return uri;
  };

  while (!root) {
    if (pos >= s.length) fail(`<${stack[stack.length - 1]?.qname}> is not closed`);
    if (s[pos] !== '<') {
      const next = s.indexOf('<', pos);
      const end = next === -1 ? s.length : next;
      const top = stack[stack.length - 1];
      top.element.text += decodeEntities(s.slice(pos, end), pos);
      pos = end;
      continue;
    }
    if (s.startsWith('<!--', pos)) {
      skipPast('-->', 'comment');
      continue;
    }
    if (s.startsWith('<![CDATA[', pos)) {
      if (!stack.length) fail('CDATA outside the root element');
      const end = s.indexOf(']]>', pos);
      if (end === -1) fail('unterminated CDATA section');
      stack[stack.length - 1].element.text += s.slice(pos + 9, end);
      pos = end + 3;
      continue;
    }
    if (s.startsWith('<?', pos)) {
      skipPast('?>', 'processing instruction');
      continue;
    }
    if (s.startsWith('<!', pos)) fail('declarations are not accepted inside an MHL file');
    if (s.startsWith('</', pos)) {
      const at = pos;
      pos += 2;
      const qname = readName();
      skipSpace();
      if (s[pos] !== '>') fail(`">" expected after </${qname}`);
      pos++;
      const top = stack.pop();
      if (!top || top.qname !== qname) fail(`</${qname}> does not close <${top?.qname ?? 'nothing'}>`, at);
      if (stack.length === 0) root = top?.element;
      continue;
    }

    // Start tag.
    const at = pos;
    pos++;
    const qname = readName();
    const raw: [string, string][] = [];
    for (;;) {
      const before = pos;
      skipSpace();
      if (s[pos] === '>' || s.startsWith('/>', pos)) break;
      if (pos === before) fail(`whitespace expected between attributes of <${qname}>`);
      const attrName = readName();
      skipSpace();
      if (s[pos] !== '=') fail(`"=" expected after attribute ${attrName}`);
      pos++;
      skipSpace();
      const quote = s[pos];
      if (quote !== '"' && quote !== "'") fail(`attribute ${attrName} must be quoted`);
      const close = s.indexOf(quote, pos + 1);
      if (close === -1) fail(`unterminated value of attribute ${attrName}`);
      const literal = s.slice(pos + 1, close);
      if (literal.includes('<')) fail(`"<" in the value of attribute ${attrName}`);
      if (raw.some(([n]) => n === attrName)) fail(`attribute ${attrName} appears twice on <${qname}>`);
      raw.push([attrName, decodeEntities(literal.replace(/[\t\n]/g, ' '), pos)]);
      pos = close + 1;
    }
    const selfClosing = s.startsWith('/>', pos);
    pos += selfClosing ? 2 : 1;

    const parentScope = stack.length ? stack[stack.length - 1].scope : rootScope;
    let scope = parentScope;
    const attributes: Record<string, string> = {};
    for (const [name, value] of raw) {
      if (name === 'xmlns' || name.startsWith('xmlns:')) {
        if (scope === parentScope) scope = new Map(parentScope);
        const prefix = name === 'xmlns' ? '' : name.slice(6);
        if (prefix !== '' && value === '') fail(`namespace prefix "${prefix}" cannot be undeclared`, at);
        scope.set(prefix, value);
      } else {
        attributes[name] = value;
      }
    }
    for (const name of Object.keys(attributes)) {
      const colon = name.indexOf(':');
      if (colon !== -1) resolve(name.slice(0, colon), scope, qname, at);
    }
    const colon = qname.indexOf(':');
    const prefix = colon === -1 ? null : qname.slice(0, colon);
    const element: XmlElement = {
      name: colon === -1 ? qname : qname.slice(colon + 1),
      namespace: resolve(prefix, scope, qname, at),
      attributes,
      children: [],
      text: '',
      line: lineAt(at),
    };
    if (stack.length) stack[stack.length - 1].element.children.push(element);
    if (selfClosing) {
      if (!stack.length) root = element;
    } else {
      if (stack.length >= maxDepth) fail(`elements are nested deeper than ${maxDepth} levels`, at);
      stack.push({ element, qname, prefix, scope });
    }
  }

  skipMisc();
  if (pos < s.length) fail('content after the root element');
  return root;
}

/** Child elements with a given local name. */
export function childElements(parent: XmlElement, name: string): XmlElement[] {
  return parent.children.filter((c) => c.name === name);
}

/** The one child with a given local name, or undefined; more than one is an error. */
export function childElement(parent: XmlElement, name: string, source = 'document'): XmlElement | undefined {
  const found = childElements(parent, name);
  if (found.length > 1) throw new MhlError('invalid-mhl', `${source}, line ${found[1].line}: <${parent.name}> has more than one <${name}>`);
  return found[0];
}
