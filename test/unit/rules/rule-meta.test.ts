import { EVENT_KINDS, PLATFORMS } from '../../../src/chat-event';
import { KIND_BITS, kindBit, PLATFORM_BITS, platformBit } from '../../../src/rules/compile-when';
import { KEYWORD_RULE, KIND_SHIFT, packRuleMeta, PLATFORM_SHIFT, STOP } from '../../../src/rules/rule-meta';

describe("a rule's packed word", () => {
  it('has one platform bit per platform of the list and one kind bit per kind and for other', () => {
    expect(PLATFORM_BITS).toBe(PLATFORMS.length);
    expect(KIND_BITS).toBe(EVENT_KINDS.length + 1);
    expect(new Set(PLATFORMS.map(platformBit)).size).toBe(PLATFORMS.length);
    expect(new Set([...EVENT_KINDS, 'other' as const].map(kindBit)).size).toBe(KIND_BITS);
  });

  it('keeps flags, platform bits and kind bits apart, inside an Int32', () => {
    const allPlatforms = PLATFORMS.reduce((m, p) => m | platformBit(p), 0);
    const allKinds = (1 << KIND_BITS) - 1;
    const regions = [STOP | KEYWORD_RULE, allPlatforms << PLATFORM_SHIFT, allKinds << KIND_SHIFT];
    for (let i = 0; i < regions.length; i++) for (let j = i + 1; j < regions.length; j++) expect(regions[i]! & regions[j]!).toBe(0);
    const word = packRuleMeta(true, { platforms: allPlatforms, kinds: allKinds });
    expect(word).toBe(regions[0]! | regions[1]! | regions[2]!);
    expect(word).toBeGreaterThan(0);
    expect(Int32Array.of(word)[0]).toBe(word);
  });

  it('leaves the masks out of a rule that is not a plain keyword rule', () => {
    expect(packRuleMeta(false, undefined)).toBe(0);
    expect(packRuleMeta(true, undefined)).toBe(STOP);
  });
});
