/**
 * protocol/SPEC.md numbers its rules (`**TOPIC-1**`, `**MSG-2**`, …) and the
 * tests name the rules they prove in their titles (`it('TOPIC-3: rejects …')`).
 * This check keeps the two in step across the repository: every rule of the
 * SPEC is cited by at least one test, and no test or vector cites a rule the
 * SPEC does not define.
 *
 * A citation is a rule id in the title of a `describe` / `it` / `test` call
 * (comments do not count), or in the `spec` list of a decision vector, whose
 * test is named after it (protocol/test/vectors.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const self = fileURLToPath(import.meta.url);
const TEST_DIRS = ['protocol/test', 'edge-agent/test', 'cloud-api/test', 'test'];
const TEST_CALLS = new Set(['describe', 'it', 'test']);

/** The rule ids SPEC.md defines, in order: each is written `**FAMILY-n**` where the rule is stated. */
function specRules(spec: string): string[] {
  return [...spec.matchAll(/\*\*([A-Z]+-\d+)\*\*/g)].map((m) => m[1] ?? '');
}

/** Every TypeScript source under the test directories (test files and the helpers that declare tests). */
function testSources(): string[] {
  return TEST_DIRS.flatMap((dir) =>
    readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.tsx?$/.test(f) && !f.split(/[\\/]/).includes('node_modules'))
      .map((f) => join(root, dir, f)),
  );
}

/** The name a call is made through: `it` for `it(…)`, `it.each(…)(…)`, `describe.skipIf(…)(…)`. */
function calleeRoot(e: ts.Expression): string | null {
  let x: ts.Expression = e;
  for (;;) {
    if (ts.isIdentifier(x)) return x.text;
    if (ts.isPropertyAccessExpression(x)) x = x.expression;
    else if (ts.isCallExpression(x)) x = x.expression;
    else return null;
  }
}

/** The titles of the describe/it/test calls of one source file; a template title keeps its literal parts. */
function testTitles(source: string, fileName = 'x.ts'): string[] {
  const sf = ts.createSourceFile(fileName, source, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const titles: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && TEST_CALLS.has(calleeRoot(node.expression) ?? '')) {
      const first = node.arguments[0];
      if (first && (ts.isStringLiteral(first) || ts.isNoSubstitutionTemplateLiteral(first))) titles.push(first.text);
      else if (first && ts.isTemplateExpression(first))
        titles.push([first.head.text, ...first.templateSpans.map((s) => s.literal.text)].join(' '));
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return titles;
}

const spec = readFileSync(join(root, 'protocol/SPEC.md'), 'utf8');
const rules = specRules(spec);
const defined = new Set(rules);
const families = [...new Set(rules.map((r) => r.replace(/-\d+$/, '')))];
/** A rule id of one of the SPEC's families, wherever it is written. */
const idPattern = new RegExp(`\\b(?:${families.join('|')})-\\d+\\b`, 'g');
const decisionVectors = JSON.parse(readFileSync(join(root, 'protocol/test-vectors/decisions.json'), 'utf8')) as {
  cases: { name: string; spec: string[] }[];
};

describe('SPEC rule ids in the tests', () => {
  const sources = testSources()
    .filter((f) => f !== self)
    .map((f) => ({ file: relative(root, f), text: readFileSync(f, 'utf8') }));

  it('reads the rules of every family out of SPEC.md, each stated once', () => {
    expect(families).toEqual(expect.arrayContaining(['TOPIC', 'MSG', 'SIGN', 'CRED', 'DEC', 'CMD']));
    expect(rules.length).toBeGreaterThan(40);
    expect(rules.length).toBe(defined.size);
  });

  it('finds test titles through every form the suites use (it.each, describe.skipIf, template titles)', () => {
    const titles = testTitles(
      `describe.skipIf(x)('A', () => { it.each([1])('B %s', () => {}); it(\`C \${n} D\`, () => {}); test('E', () => {}); foo('F'); });`,
    );
    expect(titles).toEqual(['A', 'B %s', 'C   D', 'E']);
    expect(sources.length).toBeGreaterThan(20);
  });

  it('every rule of SPEC.md is cited by at least one test', () => {
    const cited = new Set<string>();
    for (const s of sources) for (const title of testTitles(s.text, s.file)) for (const id of title.match(idPattern) ?? []) cited.add(id);
    for (const c of decisionVectors.cases) for (const id of c.spec) cited.add(id);
    expect(rules.filter((r) => !cited.has(r))).toEqual([]);
  });

  it('no test, helper or vector names a rule id that SPEC.md does not define', () => {
    const unknown: string[] = [];
    for (const s of sources) for (const id of s.text.match(idPattern) ?? []) if (!defined.has(id)) unknown.push(`${s.file}: ${id}`);
    for (const c of decisionVectors.cases) for (const id of c.spec) if (!defined.has(id)) unknown.push(`decisions.json "${c.name}": ${id}`);
    expect(unknown).toEqual([]);
  });
});
