import { bindOperations } from '../../../src/rules';
import type { TagAction } from '../../../src/tag-operation';

const actions: TagAction[] = [
  { action: 'add', provider: 'mantago', kind: 'client', tagId: 'm1' },
  { action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'b1' },
];

describe('bindOperations', () => {
  it('binds every action to the user', () => {
    expect(bindOperations(actions, { platform: 'line', recipient: 'U-dest', userId: 'U1' })).toEqual({
      operations: [
        { action: 'add', provider: 'mantago', kind: 'client', tagId: 'm1', platform: 'line', recipient: 'U-dest', userId: 'U1' },
        { action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'b1', platform: 'line', recipient: 'U-dest', userId: 'U1' },
      ],
      skipped: [],
    });
  });

  it('leaves out BotBonnie actions for Instagram users, with the reason', () => {
    const bound = bindOperations(actions, { platform: 'instagram', recipient: 'ig-1', userId: 'IG1' });
    expect(bound.operations.map((o) => o.provider)).toEqual(['mantago']);
    expect(bound.skipped).toEqual([{ action: actions[1], reason: 'instagram users are not BotBonnie users (BotBonnie tags line and facebook users)' }]);
  });
});
