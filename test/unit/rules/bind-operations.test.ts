import { bindOperations } from '../../../src/rules';
import type { TagAction } from '../../../src/tag-operation';

const actions: TagAction[] = [
  { action: 'add', provider: 'mantago', kind: 'client', tagId: 'm1' },
  { action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'b1' },
];

describe('bindOperations', () => {
  it('binds every action to the user, in the environment\'s account of its provider by default', () => {
    expect(bindOperations(actions, { platform: 'line', channel: 'line', recipient: 'U-dest', userId: 'U1' })).toEqual({
      operations: [
        { action: 'add', provider: 'mantago', kind: 'client', tagId: 'm1', platform: 'line', recipient: 'U-dest', userId: 'U1', account: 'mantago', channel: 'line' },
        { action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'b1', platform: 'line', recipient: 'U-dest', userId: 'U1', account: 'botbonnie', channel: 'line' },
      ],
      actions,
      skipped: [],
    });
  });

  it('puts each operation in the account it is given, and merges two actions that land on one operation (the first wins)', () => {
    const named: TagAction[] = [
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 't', account: 'brand-a' },
      { action: 'remove', provider: 'mantago', kind: 'personal', tagId: 't' },
      { action: 'add', provider: 'mantago', kind: 'personal', tagId: 't', account: 'brand-b' },
    ];
    const target = { platform: 'line' as const, channel: 'brand-a-line', recipient: 'U-dest', userId: 'U1' };
    const bound = bindOperations(named, target, (a) => a.account ?? 'brand-a');
    expect(bound.operations.map((o) => [o.action, o.account, o.channel])).toEqual([
      ['add', 'brand-a', 'brand-a-line'],
      ['add', 'brand-b', 'brand-a-line'],
    ]);
  });

  it('gives an operation the person its account names, only where it is not the recipient, and merges on it', () => {
    const two: TagAction[] = [
      { action: 'add', provider: 'botbonnie', kind: 'personal', tagId: 'b1', account: 'bb' },
      { action: 'remove', provider: 'botbonnie', kind: 'personal', tagId: 'b1', account: 'bb' },
      { action: 'add', provider: 'botbonnie', kind: 'personal', tagId: 'b2' },
    ];
    const target = { platform: 'line' as const, channel: 'l1', recipient: 'U-dest', userId: 'U1' };
    const personOf = (op: { account: string }) => (op.account === 'bb' ? '@shared' : op.account === 'botbonnie' ? 'U-dest' : undefined);
    const bound = bindOperations(two, target, (a) => a.account ?? 'botbonnie', personOf);
    expect(bound.operations.map((o) => [o.action, o.tagId, o.account, o.person])).toEqual([
      ['add', 'b1', 'bb', '@shared'],
      ['add', 'b2', 'botbonnie', undefined],
    ]);
    expect('person' in bound.operations[1]!).toBe(false);
  });

  it('leaves out BotBonnie actions for Instagram users, with the reason', () => {
    const bound = bindOperations(actions, { platform: 'instagram', channel: 'facebook', recipient: 'ig-1', userId: 'IG1' });
    expect(bound.operations.map((o) => o.provider)).toEqual(['mantago']);
    expect(bound.skipped).toEqual([{ action: actions[1], reason: 'instagram users are not BotBonnie users (BotBonnie tags line and facebook users)' }]);
  });

  it('leaves out a BotBonnie action whose bot_pid would be a recipient id holding control characters; MantaGo, which does not send it, tags the user', () => {
    // The store keeps U+0000 escaped (`\\u0000`): BotBonnie would get six characters instead of the page id.
    const bound = bindOperations(actions, { platform: 'facebook', channel: 'facebook', recipient: 'PG\u0000', userId: 'F1' });
    expect(bound.operations.map((o) => [o.provider, o.userId])).toEqual([['mantago', 'F1']]);
    expect(bound.skipped).toEqual([{ action: actions[1], reason: 'BotBonnie names the bot by the recipient id "PG\\u0000", which holds control characters: it could not reach BotBonnie as it came' }]);
    // A LINE pid of the account's own (line_pid) is the bot's name instead: the action applies.
    const withPid = bindOperations(actions, { platform: 'line', channel: 'line', recipient: 'Ubot\u0000', userId: 'U1' }, undefined, (op) => (op.provider === 'botbonnie' ? '@brand' : undefined));
    expect(withPid.operations.map((o) => [o.provider, o.person])).toEqual([
      ['mantago', undefined],
      ['botbonnie', '@brand'],
    ]);
    expect(withPid.skipped).toEqual([]);
  });
});
