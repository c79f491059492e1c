import { SKILL_ALIASES } from './skills.ts';

/** First words of the two-word aliases: bigrams are only built after one of these. */
/** No alias word is longer than this: longer tokens skip the lookups. */
const MAX_ALIAS_WORD = Math.max(...[...SKILL_ALIASES.keys()].flatMap((k) => k.split(' ').map((w) => w.length)));
const BIGRAM_FIRST = new Set([...SKILL_ALIASES.keys()].filter((k) => k.includes(' ')).map((k) => k.split(' ')[0]!));

const NAMED: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
  ndash: '–',
  mdash: '—',
  hellip: '…',
  lsquo: '‘',
  rsquo: '’',
  ldquo: '“',
  rdquo: '”',
  sbquo: '‚',
  bdquo: '„',
  bull: '•',
  middot: '·',
  copy: '©',
  reg: '®',
  trade: '™',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  deg: '°',
  times: '×',
  divide: '÷',
  plusmn: '±',
  laquo: '«',
  raquo: '»',
  shy: '',
  zwj: '\u200d',
  zwnj: '\u200c',
  ensp: '\u2002',
  emsp: '\u2003',
  thinsp: '\u2009',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  oacute: 'ó',
  iacute: 'í',
  uacute: 'ú',
  ntilde: 'ñ',
  ccedil: 'ç',
  szlig: 'ß',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
};

const ENTITY = /&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z][a-zA-Z0-9]{1,31}));/g;

function fromCodePoint(cp: number): string {
  // NUL, surrogates and out-of-range code points are replaced, as HTML parsers do.
  if (cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return '\ufffd';
  return String.fromCodePoint(cp);
}

/**
 * Decodes named (common subset), decimal (&#39;) and hexadecimal (&#x27;) character references. Unknown names stay as
 * written.
 */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(ENTITY, (whole, dec: string | undefined, hex: string | undefined, name: string | undefined) => {
    if (dec !== undefined) return fromCodePoint(Number.parseInt(dec, 10));
    if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
    const named = NAMED[name!] ?? NAMED[name!.toLowerCase()];
    return named ?? whole;
  });
}

const DROP_BLOCKS = /<(script|style|head|template)\b[^>]*>[\s\S]*?<\/\1\s*>/gi;
const COMMENTS = /<!--[\s\S]*?-->/g;
/** Tags that end a line: <br>, paragraphs, list items, block containers, headings, table rows. */
const BREAKS = /<\/?(?:br|p|li|ul|ol|div|section|article|h[1-6]|tr|table|blockquote|pre|hr|dd|dt)\b[^>]*>/gi;
const TAGS = /<[^>]*>/g;

/**
 * HTML → plain text: drops scripts/styles/comments, turns <br>, <p>, <li> (and other block tags) into newlines,
 * strips the remaining tags, decodes entities, collapses runs of spaces and tabs to one space, trims each line and
 * drops empty lines. Plain text passes through with only the whitespace collapsed.
 */
export function htmlToText(html: string): string {
  let text = html;
  if (text.includes('<')) {
    if (text.includes('<!--')) text = text.replace(COMMENTS, '');
    if (HAS_DROP_BLOCK.test(text)) text = text.replace(DROP_BLOCKS, '');
    text = text.replace(BREAKS, '\n').replace(TAGS, '');
  }
  return collapseWhitespace(decodeEntities(text));
}

const HAS_DROP_BLOCK = /<(?:script|style|head|template)\b/i;
const LINE_SEPARATORS = /\r\n?|[\u2028\u2029]/g;
/** runs of horizontal whitespace (\s without the newline) that are not already a single ' ' */
const HORIZONTAL = / [^\S\n]+|[^\S\n ][^\S\n]*/g;
/** a newline with the spaces around it and any blank lines after it */
const LINE_BREAK = / ?\n\s*/g;

/** Runs of horizontal whitespace → one space; each line trimmed; empty lines removed; \r\n → \n. */
export function collapseWhitespace(text: string): string {
  let t =
    text.includes('\r') || text.includes('\u2028') || text.includes('\u2029')
      ? text.replace(LINE_SEPARATORS, '\n')
      : text;
  if (t.includes('\u200b')) t = t.replace(/\u200b/g, '');
  return t.replace(HORIZONTAL, ' ').replace(LINE_BREAK, '\n').trim();
}

/**
 * Tokens: maximal runs of Unicode letters/digits (any script), lowercased, that may be joined by '.', '-' or '_'
 * followed by more letters/digits ("node.js", "scikit-learn"), may start with a '.' when one starts a word (".net"),
 * and may end in '++' or '#' ("c++", "c#"). Trailing sentence punctuation is not part of a token.
 */
const TOKEN =
  /\.?[\p{L}\p{N}][\p{L}\p{N}\p{M}_]*(?:[.\-_][\p{L}\p{N}][\p{L}\p{N}\p{M}_]*)*(?:\+\+|#(?![\p{L}\p{N}]))?/gu;

export function tokenize(text: string): string[] {
  return text.toLowerCase().match(TOKEN) ?? [];
}

/**
 * Skill keywords from the curated vocabulary (skills.ts), matched on single tokens and on bigrams of adjacent
 * tokens; canonical names, first-seen order, no duplicates.
 */
export function extractSkills(text: string): string[] {
  return skillsOfTokens(tokenize(text));
}

/** `extractSkills` over tokens already made by `tokenize` (so a text shared with other consumers is scanned once). */
export function skillsOfTokens(tokens: readonly string[]): string[] {
  const found = new Set<string>();
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (tok.length > MAX_ALIAS_WORD) continue;
    const one = SKILL_ALIASES.get(tok);
    if (one !== undefined) found.add(one);
    if (i + 1 < tokens.length && BIGRAM_FIRST.has(tok)) {
      const two = SKILL_ALIASES.get(`${tok} ${tokens[i + 1]!}`);
      if (two !== undefined) found.add(two);
    }
  }
  return [...found];
}
