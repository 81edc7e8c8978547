// Reads a ginkgo JSON report and the known-failures list; prints the failed specs, a JSON summary
// line and, last, `e2e: N passed, N failed`. Exit 1 when a spec fails that is not listed, or a
// listed spec ran and passed (the list must shrink as fixes land), or nothing ran.
// usage: node summarize.mjs REPORT.json KNOWN.txt SECONDS [subset]
import { readFileSync } from 'node:fs';

const [reportPath, knownPath, seconds, mode] = process.argv.slice(2);
const suites = JSON.parse(readFileSync(reportPath, 'utf8'));

/** Known failures: one full spec name per line; `#` lines are comments (the cause, above it). */
const known = new Set(
  readFileSync(knownPath, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#')),
);

const passed = [];
const failed = [];
for (const suite of suites) {
  for (const spec of suite.SpecReports ?? []) {
    if (spec.LeafNodeType !== 'It') continue;
    const name = [...(spec.ContainerHierarchyTexts ?? []), spec.LeafNodeText].join(' ');
    if (spec.State === 'passed') passed.push(name);
    else if (spec.State !== 'skipped' && spec.State !== 'pending') {
      const msg = (spec.Failure?.Message ?? spec.State).split('\n').find((l) => l.trim() !== '') ?? '';
      failed.push({ name, state: spec.State, msg: msg.slice(0, 300) });
    }
  }
}

const unexpected = failed.filter((f) => !known.has(f.name));
const fixed = passed.filter((p) => known.has(p));
for (const f of failed) {
  console.log(`${known.has(f.name) ? 'KNOWN' : 'FAIL '} ${f.name}\n        ${f.state}: ${f.msg}`);
}
for (const p of fixed) console.log(`FIXED ${p}  (passes: remove it from known-failures.txt)`);
console.log(
  JSON.stringify({
    e2e: mode === 'subset' ? 'subset' : 'NodeConformance',
    passed: passed.length,
    failed: failed.length,
    knownFailed: failed.length - unexpected.length,
    unexpectedFailed: unexpected.length,
    knownPassed: fixed.length,
    seconds: Number(seconds),
  }),
);
const knownNote = failed.length > unexpected.length ? ` (${failed.length - unexpected.length} known)` : '';
console.log(`e2e: ${passed.length} passed, ${failed.length} failed${knownNote}`);
process.exit(unexpected.length > 0 || fixed.length > 0 || passed.length + failed.length === 0 ? 1 : 0);
