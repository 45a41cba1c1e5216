import { KIND_BITS, PLATFORM_BITS } from './compile-when';

/*
 * What a rule set reads first about each rule, packed in one Int32 (`RuleSet.meta`):
 * two flags, then a keyword rule's platform mask, then its kind mask. The layout
 * follows from the platform and kind lists, so a platform added to the list moves
 * the kind bits instead of overlapping them.
 */
export const STOP = 1;
export const KEYWORD_RULE = 2;
export const PLATFORM_SHIFT = 2;
export const KIND_SHIFT = PLATFORM_SHIFT + PLATFORM_BITS;

if (KIND_SHIFT + KIND_BITS > 31) {
  throw new Error(`rules: ${PLATFORM_BITS} platform and ${KIND_BITS} kind bits do not fit beside two flags in an Int32`);
}

/** The packed word of a rule: `stop`, and for a plain keyword rule its masks (see keywordRuleMasks). */
export function packRuleMeta(stop: boolean, masks: { platforms: number; kinds: number } | undefined): number {
  return (stop ? STOP : 0) | (masks ? KEYWORD_RULE | (masks.platforms << PLATFORM_SHIFT) | (masks.kinds << KIND_SHIFT) : 0);
}
