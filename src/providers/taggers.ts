import type { Provider, TagCall } from '../tag-operation';
import type { BotbonnieClient, BotbonnieUserTagRequest } from './botbonnie';
import { BOTBONNIE_CHANNEL } from './botbonnie-provider';
import { TagApiError, withChanges } from './errors';
import type { MantagoClient, MantagoCreds, MantagoTagRequest } from './mantago';
import type { MantagoCredentials } from './mantago-credentials';
import { skipReason } from './index';

/**
 * What the worker calls for one desired-state operation. `apply` resolves when the
 * provider confirmed it and throws a TagApiError otherwise; it makes one call (MantaGo:
 * at most one more after a 401 and a token refresh) and never retries on its own.
 * `signal` aborts the tag calls (not a token refresh): the worker's lease ended.
 */
export interface Tagger {
  apply(op: TagCall, signal?: AbortSignal): Promise<void>;
}

function refuse(provider: Provider, op: TagCall, why: string): TagApiError {
  return new TagApiError({ provider, retryable: false, reason: `cannot ${op.action} ${provider} tag ${op.tagId}: ${why}` });
}

export function createMantagoTagger(
  client: Pick<MantagoClient, 'addPersonalTag' | 'removePersonalTag' | 'addClientTag'>,
  credentials: Pick<MantagoCredentials, 'current' | 'refreshAfter401' | 'hint'>,
): Tagger {
  return {
    async apply(op, signal) {
      if (op.provider !== 'mantago') throw refuse('mantago', op, `the operation is for ${op.provider}`);
      let send: (creds: MantagoCreds, req: MantagoTagRequest) => Promise<void>;
      if (op.kind === 'client') {
        // MantaGo has no endpoint to remove a client tag; rule validation forbids asking for it.
        if (op.action === 'remove') throw refuse('mantago', op, 'MantaGo client tags cannot be removed');
        send = (c, r) => client.addClientTag(c, r, signal);
      } else {
        send = op.action === 'add' ? (c, r) => client.addPersonalTag(c, r, signal) : (c, r) => client.removePersonalTag(c, r, signal);
      }
      const req: MantagoTagRequest = { tagId: op.tagId, platform: op.platform, platformClientId: op.userId };

      const creds = await credentials.current();
      try {
        await send(creds, req);
        return;
      } catch (err) {
        if (!(err instanceof TagApiError) || err.status !== 401) throw err;
        // The lease's call deadline passed while the 401 came in (its body ran into it): no
        // refresh and no second call under a lease whose time is over. The next attempt meets
        // the 401 again and refreshes then.
        if (signal?.aborted) {
          throw withChanges(err, { retryable: true, reason: `${err.reason} — the call deadline passed before a token refresh could start: the next attempt refreshes` });
        }
      }
      // CONTRACT.md: a 401 gets one refresh and one retry; a second 401 makes a dead letter.
      const fresh = await credentials.refreshAfter401(creds);
      try {
        await send(fresh, req);
      } catch (err) {
        if (err instanceof TagApiError && err.status === 401) {
          throw withChanges(err, {
            retryable: false,
            reason: `401 from mantago after a token refresh: the refresh did not cure it; ${credentials.hint} (${err.reason})`,
          });
        }
        throw err;
      }
    },
  };
}

export interface BotbonnieTaggerOptions {
  /** BOTBONNIE_LINE_PID; without it the LINE webhook's destination (the operation's recipient) is used. */
  linePid?: string;
}

export function createBotbonnieTagger(
  client: Pick<BotbonnieClient, 'addUserTag' | 'removeUserTag'>,
  opts: BotbonnieTaggerOptions = {},
): Tagger {
  return {
    async apply(op, signal) {
      if (op.provider !== 'botbonnie') throw refuse('botbonnie', op, `the operation is for ${op.provider}`);
      const channel = BOTBONNIE_CHANNEL.get(op.platform);
      // The request path skips other platforms' users, so this is a bug upstream.
      if (channel === undefined) throw refuse('botbonnie', op, skipReason(op, op.platform) ?? `${op.platform} users are not BotBonnie users`);
      // LINE: BOTBONNIE_LINE_PID, else the webhook's destination; Facebook: the page id.
      const pid = op.platform === 'line' ? (opts.linePid ?? op.recipient) : op.recipient;
      const req: BotbonnieUserTagRequest = { bot_tag_id: op.tagId, bot_raw_uid: op.userId, bot_pid: pid, bot_channel: channel };
      if (op.action === 'add') await client.addUserTag(req, signal);
      else await client.removeUserTag(req, signal);
    },
  };
}
