/**
 * The kinds of event rules can ask for; everything else is `other` and produces nothing.
 * A module of its own (re-exported by chat-event.ts) so that the command line can name
 * them without loading the platform modules.
 */
export const EVENT_KINDS = ['message', 'postback', 'follow', 'unfollow'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];
