import type { Platform } from '../chat-event';
import type { BotbonnieChannel } from './botbonnie';

/**
 * `bot_channel` of each platform BotBonnie tags (the docs' 渠道代號: 0 Facebook, 1 LINE).
 * Instagram and WhatsApp users are not BotBonnie users, nor is any platform added later.
 * A module of its own so that the command line can name them without loading the descriptor.
 */
export const BOTBONNIE_CHANNEL: ReadonlyMap<Platform, BotbonnieChannel> = new Map<Platform, BotbonnieChannel>([
  ['line', 1],
  ['facebook', 0],
]);
