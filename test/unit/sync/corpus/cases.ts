import { admissionAndConfigCases } from './cases-admission.js';
import { runtimeAndVolumeCases } from './cases-runtime.js';
import type { HostileCase } from './helpers.js';

export { ESCAPE, type HostileCase, type Outcome } from './helpers.js';

/** The whole corpus (see helpers.ts for what each outcome means). */
export function hostileCases(): HostileCase[] {
  return [...admissionAndConfigCases(), ...runtimeAndVolumeCases()];
}
