/**
 * The kinds of event rules can ask for; everything else is `other` and produces nothing.
 * A module of its own (re-exported by chat-event.ts) so that the command line can name
 * them without loading the platform modules.
 */
export const EVENT_KINDS = ['message', 'postback', 'follow', 'unfollow'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/**
 * What each kind can carry (CONTRACT.md, Semantics): only a message has text; a postback,
 * or a message answering a quick reply, has postback data; a follow or unfollow has neither.
 * An event without one fails every condition on it.
 */
export const carriesText = (kind: string): boolean => kind === 'message';
export const carriesPostbackData = (kind: string): boolean => kind === 'message' || kind === 'postback';
