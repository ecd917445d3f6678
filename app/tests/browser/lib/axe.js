// Accessibility check: axe-core (npm @axe-core/playwright) on the page as it is now, with
// the WCAG 2.0/2.1 A and AA rules (Taiwan's government accessibility rules follow
// WCAG 2.1). Any violation fails the test with a readable list of rule, impact, target
// and axe's help text, so the failing element can be found without rerunning.

import assert from 'node:assert/strict';
import { AxeBuilder } from '@axe-core/playwright';

export const WCAG21_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** The violations axe finds on `page` (nothing excluded), formatted one line per node. */
export async function axeViolations(page, { include } = {}) {
  let builder = new AxeBuilder({ page }).withTags(WCAG21_AA);
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  const lines = [];
  for (const v of violations) {
    for (const n of v.nodes) {
      lines.push(`${v.id} (${v.impact}): ${n.target.join(' ')} — ${v.help}; ${n.failureSummary?.replace(/\s+/g, ' ')}`);
    }
  }
  return lines;
}

/**
 * Fails unless `page` has zero WCAG 2.1 AA violations. `label` names the screen in the
 * failure message (e.g. 'DC02 query grid'). Works on any page: the applicant's and the
 * operator's screens, and server-rendered pages such as the payment slip.
 */
export async function assertAccessible(page, label) {
  const lines = await axeViolations(page);
  assert.deepEqual(lines, [], `axe-core WCAG 2.1 AA violations on ${label}:\n${lines.join('\n')}`);
}
