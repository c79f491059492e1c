import { describe, expect, it } from 'vitest';
import { resolveRelativeDate } from './relative-date.ts';
import { normalizePeriod, parseSalaryEstimate } from './salary.ts';
import { collapseWhitespace, decodeEntities, extractSkills, htmlToText, tokenize } from './text.ts';

describe('decodeEntities', () => {
  it('decodes named, decimal and hex references', () => {
    expect(decodeEntities('R&amp;D &lt;b&gt; &quot;x&quot; it&#x27;s it&#39;s &#8212; &#X2014; &nbsp;|')).toBe(
      'R&D <b> "x" it\'s it\'s — — \u00a0|',
    );
    expect(decodeEntities('https:&#x2F;&#x2F;example.com&#x2F;a')).toBe('https://example.com/a');
    expect(decodeEntities('caf&eacute; &euro;5 &rsquo;')).toBe('café €5 ’');
  });
  it('leaves unknown names and bare ampersands alone, replaces invalid code points', () => {
    expect(decodeEntities('AT&T &bogus; a & b')).toBe('AT&T &bogus; a & b');
    expect(decodeEntities('&#0;&#xD800;&#x110000;')).toBe('\ufffd\ufffd\ufffd');
    expect(decodeEntities('&#x1F600;')).toBe('😀');
  });
});

describe('htmlToText', () => {
  it('turns <p>, <br>, <li> into newlines and strips other tags', () => {
    expect(htmlToText('Acme | NYC<p>We use <b>Python</b> &amp; <i>SQL</i>.<br/>Apply: <a href="x">here</a>')).toBe(
      'Acme | NYC\nWe use Python & SQL.\nApply: here',
    );
    expect(htmlToText('<ul><li>one</li><li>two</li></ul><p>three')).toBe('one\ntwo\nthree');
  });
  it('drops scripts, styles and comments; collapses whitespace', () => {
    expect(htmlToText('<style>p{}</style><script>alert(1)</script><!-- c -->a   \t b\n\n\n  c  ')).toBe('a b\nc');
  });
  it('decodes entities after stripping tags, so encoded markup stays text', () => {
    expect(htmlToText('&lt;div&gt; is a tag')).toBe('<div> is a tag');
  });
  it('handles the Bright Data section markup', () => {
    const html =
      '<section class="show-more-less-html" data-max-lines="5">\n  <div ' +
      'class="x">\n<strong>Role</strong><br><br>Build <em>things</em>\n  </div>\n</section>';
    expect(htmlToText(html)).toBe('Role\nBuild things');
  });
  it('collapseWhitespace normalizes CRLF and non-breaking spaces', () => {
    expect(collapseWhitespace('a\u00a0\u00a0b\r\n\r\nc')).toBe('a b\nc');
  });
});

describe('tokenize', () => {
  it('keeps c++, c#, .net, node.js and lowercases', () => {
    expect(tokenize('We use C++, C#, .NET and Node.js (not F#!).')).toEqual([
      'we',
      'use',
      'c++',
      'c#',
      '.net',
      'and',
      'node.js',
      'not',
      'f#',
    ]);
  });
  it('is language-agnostic: any script letters and digits', () => {
    expect(tokenize('Développeur Python à Zürich — 東京 エンジニア, Москва 2026')).toEqual([
      'développeur',
      'python',
      'à',
      'zürich',
      '東京',
      'エンジニア',
      'москва',
      '2026',
    ]);
  });
  it('drops trailing sentence punctuation, keeps inner dots and hyphens', () => {
    expect(tokenize('Know python. Use scikit-learn, vue.js; e.g. ASP.NET.')).toEqual([
      'know',
      'python',
      'use',
      'scikit-learn',
      'vue.js',
      'e.g',
      'asp.net',
    ]);
  });
});

describe('extractSkills', () => {
  it('matches tokens and bigrams to canonical names, first-seen order, once each', () => {
    expect(
      extractSkills(
        'Python, SQL and Machine Learning with PyTorch; python again; k8s on AWS; LLM, RAG, LangChain, agentic',
      ),
    ).toEqual([
      'python',
      'sql',
      'machine learning',
      'pytorch',
      'kubernetes',
      'aws',
      'llm',
      'rag',
      'langchain',
      'agentic',
    ]);
    expect(extractSkills('C++ / C# / .NET / Node.js / React Native / TypeScript')).toEqual([
      'c++',
      'c#',
      '.net',
      'node.js',
      'react',
      'react native',
      'typescript',
    ]);
  });
  it('does not match inside words', () => {
    expect(extractSkills('javascriptish sparkle pythonic')).toEqual([]);
  });
});

describe('parseSalaryEstimate', () => {
  it('parses the Glassdoor spellings', () => {
    expect(parseSalaryEstimate('$111K-$181K (Glassdoor est.)')).toEqual({
      min: 111_000,
      max: 181_000,
      currency: 'USD',
      period: 'year',
    });
    expect(parseSalaryEstimate('$25-$30 Per Hour')).toEqual({ min: 25, max: 30, currency: 'USD', period: 'hour' });
    expect(parseSalaryEstimate('$21-$29 Per Hour(Glassdoor est.)')).toEqual({
      min: 21,
      max: 29,
      currency: 'USD',
      period: 'hour',
    });
    expect(parseSalaryEstimate('Employer Provided Salary:$25-$28 Per Hour')).toEqual({
      min: 25,
      max: 28,
      currency: 'USD',
      period: 'hour',
    });
    expect(parseSalaryEstimate('$80K-$90K(Employer est.)')).toEqual({
      min: 80_000,
      max: 90_000,
      currency: 'USD',
      period: 'year',
    });
  });
  it('treats -1 and blanks as missing and rejects other text', () => {
    expect(parseSalaryEstimate('-1')).toEqual({ min: null, max: null, currency: null, period: null });
    expect(parseSalaryEstimate('')).toEqual({ min: null, max: null, currency: null, period: null });
    expect(() => parseSalaryEstimate('competitive')).toThrow(/unparseable salary estimate "competitive"/);
  });
  it('normalizes pay periods', () => {
    expect(['yr', 'YEARLY', 'Hourly', 'per month', 'hr', 'Week'].map(normalizePeriod)).toEqual([
      'year',
      'year',
      'hour',
      'month',
      'hour',
      'week',
    ]);
  });
});

describe('resolveRelativeDate', () => {
  const ref = Date.parse('2024-12-22T09:16:55.951Z');
  it('resolves LinkedIn relative times against the reference', () => {
    expect(resolveRelativeDate('just now', ref)).toBe(ref);
    expect(resolveRelativeDate('3 days ago', ref)).toBe(Date.parse('2024-12-19T09:16:55.951Z'));
    expect(resolveRelativeDate('1 week ago', ref)).toBe(Date.parse('2024-12-15T09:16:55.951Z'));
    expect(resolveRelativeDate('2 months ago', ref)).toBe(Date.parse('2024-10-23T09:16:55.951Z'));
    expect(resolveRelativeDate('an hour ago', ref)).toBe(ref - 3_600_000);
    expect(resolveRelativeDate('30+ days ago', ref)).toBe(ref - 30 * 86_400_000);
    expect(resolveRelativeDate('Yesterday', ref)).toBe(ref - 86_400_000);
  });
  it('returns null for text it does not know', () => {
    expect(resolveRelativeDate('last tuesday', ref)).toBeNull();
    expect(resolveRelativeDate('3 fortnights ago', ref)).toBeNull();
    expect(resolveRelativeDate('in 3 days', ref)).toBeNull();
  });
});
