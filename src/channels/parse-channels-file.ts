import type { z } from 'zod';
import { baseUrlProblem } from '../env-values';
import { CHANNEL_KINDS, ENVIRONMENT_CHANNEL_IDS, type ChannelKind } from '../platforms/endpoints';
import { PROVIDERS, providerNamed } from '../providers';
import { issueMessage, issueTarget, toPath } from '../rules/issue-message';
import { didYouMean, sortProblems, type RuleProblem } from '../rules/problems';
import { parseYamlSource, type PathSegment, type Position, type YamlSource } from '../rules/yaml-source';
import type { Provider } from '../tag-operation';
import type { AccountDefinition, ChannelDefinition, ChannelsFileResult } from './definitions';
import { ACCOUNT_SCHEMAS, CHANNEL_SCHEMAS, channelsTopSchema, NAME } from './schema';
import { substitute, unquotedReferenceHint } from './variables';

/**
 * What unset variables are: `serve` refuses to start on them; `validate` and `test`
 * read the file without the secrets and only warn.
 */
export type UnsetVariables = 'error' | 'warning';

const KIND_NAMES = CHANNEL_KINDS.map((k) => k.name);

/**
 * Parses and checks the channels file with the rules' YAML machinery: every problem
 * at FILE:LINE:COLUMN, all of them at once.
 */
export function parseChannelsFile(text: string, file: string, env: NodeJS.ProcessEnv, unset: UnsetVariables): ChannelsFileResult {
  const problems: RuleProblem[] = [];
  const warnings: RuleProblem[] = [];
  const source = parseYamlSource(text, unquotedReferenceHint);
  const at = (position: Position, message: string, into = problems) => into.push({ file, line: position.line, column: position.column, message });
  const report = (base: PathSegment[], issues: readonly z.core.$ZodIssue[], whole: string) => {
    for (const issue of issues) at(source.locate([...base, ...toPath(issue.path)], issueTarget(issue)), issueMessage(issue, whole));
  };

  for (const e of source.syntaxErrors) at(e.position, `YAML syntax error: ${e.message}`);
  if (source.syntaxErrors.length) return { problems, warnings };
  if (source.value === null || source.value === undefined) {
    at({ line: 1, column: 1 }, 'the channels file is empty: it holds "accounts:" and "channels:"');
    return { problems, warnings };
  }
  const top = channelsTopSchema.safeParse(source.value, { reportInput: true });
  if (!top.success) report([], top.error.issues, 'the channels file');
  const raw = source.value as { accounts?: unknown; channels?: unknown };

  /** A string value with its variables read; undefined when one is unset (reported as `unset` says). */
  const read = (path: PathSegment[], written: string, what: string): string | undefined => {
    const s = substitute(written, env);
    for (const name of s.unset) {
      at(source.locate(path), `${name} is not set (${what} is \${${name}})`, unset === 'error' ? problems : warnings);
    }
    return s.value === undefined ? undefined : s.value.trim();
  };

  const accounts = readAccounts(raw.accounts, source, { at, report, read });
  // Every account declared with a provider counts as existing for the channels (its own problems are reported already).
  const providerOf = declaredAccounts(raw.accounts);
  const accountNames = [...providerOf.keys()];
  const channels: ChannelDefinition[] = [];
  const declaredChannels = new Map<string, ChannelKind>();
  const firstId = new Map<string, Position>();
  const firstDestination = new Map<string, { id: string; position: Position }>();
  (Array.isArray(raw.channels) ? raw.channels : []).forEach((entry, index) => {
    const base: PathSegment[] = ['channels', index];
    const before = problems.length;
    const c = entry as Record<string, unknown> | null;
    const kindName = typeof c === 'object' && c !== null ? c.platform : undefined;
    const kind = CHANNEL_KINDS.find((k) => k.name === kindName);
    if (typeof c !== 'object' || c === null || Array.isArray(c)) {
      at(source.locate(base), 'a channel must be a map of keys (id, platform, …)');
      return;
    }
    if (kind === undefined) {
      const message =
        kindName === undefined
          ? `missing required key "platform": ${KIND_NAMES.join(' or ')}`
          : `unknown platform ${JSON.stringify(kindName)}${(typeof kindName === 'string' ? didYouMean(kindName, KIND_NAMES) : '') || `; a channel is ${KIND_NAMES.join(' (a LINE channel) or ')} (a Meta app: Messenger, Instagram and WhatsApp)`}`;
      at(source.locate([...base, ...(kindName === undefined ? [] : ['platform'])]), message);
      return;
    }
    const parsed = CHANNEL_SCHEMAS.get(kind.name)!.safeParse(c, { reportInput: true });
    if (!parsed.success) report(base, parsed.error.issues, `a ${kind.title}`);
    const id = typeof c.id === 'string' && NAME.test(c.id) ? c.id : undefined;
    const idPosition = source.locate([...base, 'id']);
    if (id !== undefined && !declaredChannels.has(id)) declaredChannels.set(id, kind);
    if (id !== undefined) {
      const earlier = firstId.get(id);
      if (ENVIRONMENT_CHANNEL_IDS.includes(id)) {
        at(idPosition, `channel id ${JSON.stringify(id)} is reserved: ${ENVIRONMENT_CHANNEL_IDS.join(', ')} are the environment's channels (its /webhooks/… endpoints); choose another id`);
      } else if (earlier) {
        at(idPosition, `duplicate channel id ${JSON.stringify(id)}: already used at ${file}:${earlier.line}:${earlier.column}`);
      } else firstId.set(id, idPosition);
    }

    // Accounts: each must exist, at most one per provider.
    const names = c.accounts === undefined ? [] : Array.isArray(c.accounts) ? c.accounts : [c.accounts];
    const byProvider = new Map<Provider, { name: string; position: Position }>();
    const channelAccounts: string[] = [];
    names.forEach((name, i) => {
      if (typeof name !== 'string' || !NAME.test(name)) return; // reported by the schema
      const path = Array.isArray(c.accounts) ? [...base, 'accounts', i] : [...base, 'accounts'];
      const position = source.locate(path);
      // The environment's accounts (named after their provider) may be named too.
      const provider = providerOf.get(name) ?? ((PROVIDERS as readonly string[]).includes(name) ? (name as Provider) : undefined);
      if (provider === undefined) {
        at(position, `unknown account ${JSON.stringify(name)}${didYouMean(name, accountNames) || (accountNames.length ? `; the accounts are ${accountNames.join(', ')}` : '; declare it under "accounts:"')}`);
        return;
      }
      const other = byProvider.get(provider);
      if (other) {
        at(
          position,
          `two ${providerNamed(provider).title} accounts on one channel: ${other.name} (at ${file}:${other.position.line}:${other.position.column}) and ${name}; ` +
            'a channel has at most one account per provider (a rule may send an action elsewhere with "account:")',
        );
        return;
      }
      byProvider.set(provider, { name, position });
      channelAccounts.push(name);
    });

    const secretWritten = typeof c[kind.secretKey] === 'string' ? (c[kind.secretKey] as string) : undefined;
    const verifyWritten = kind.verifyTokenKey && typeof c[kind.verifyTokenKey] === 'string' ? (c[kind.verifyTokenKey] as string) : undefined;
    const label = `channel ${id ?? `#${index + 1}`}`;
    const secret = secretWritten === undefined ? undefined : read([...base, kind.secretKey], secretWritten, `the ${kind.secretKey} of ${label}`);
    const verifyToken =
      verifyWritten === undefined || !kind.verifyTokenKey ? undefined : read([...base, kind.verifyTokenKey], verifyWritten, `the ${kind.verifyTokenKey} of ${label}`);
    let destination: string | undefined;
    if (kind.destinationKey && typeof c[kind.destinationKey] === 'string') {
      destination = read([...base, kind.destinationKey], c[kind.destinationKey] as string, `the ${kind.destinationKey} of ${label}`);
      if (destination !== undefined && id !== undefined) {
        const earlier = firstDestination.get(destination);
        if (earlier) {
          at(
            source.locate([...base, kind.destinationKey]),
            `destination ${JSON.stringify(destination)} is also the destination of channel ${earlier.id} (at ${file}:${earlier.position.line}:${earlier.position.column}): POST /webhooks/line could not tell them apart`,
          );
        } else firstDestination.set(destination, { id, position: source.locate([...base, kind.destinationKey]) });
      }
    }
    const forwardUrls: string[] = [];
    const urls = c.forward_urls === undefined ? [] : Array.isArray(c.forward_urls) ? c.forward_urls : [c.forward_urls];
    urls.forEach((u, i) => {
      if (typeof u !== 'string') return;
      const path = Array.isArray(c.forward_urls) ? [...base, 'forward_urls', i] : [...base, 'forward_urls'];
      const url = read(path, u, `a forward URL of ${label}`);
      if (url === undefined) return;
      if (!isHttpUrl(url)) at(source.locate(path), `${JSON.stringify(url)} is not an http(s) URL`);
      else forwardUrls.push(url);
    });

    if (problems.length !== before || id === undefined || secretWritten === undefined) return;
    channels.push({
      id,
      kind,
      secret,
      secretVariable: variableOf(secretWritten),
      ...(kind.verifyTokenKey && verifyWritten !== undefined ? { verifyToken, verifyTokenVariable: variableOf(verifyWritten) } : {}),
      ...(destination !== undefined ? { destination } : {}),
      accounts: channelAccounts,
      forwardUrls,
      position: idPosition,
    });
  });

  const ok = problems.length === 0;
  return {
    ...(ok ? { channels: { file, accounts, channels } } : {}),
    declared: { channels: declaredChannels, accounts: providerOf },
    problems: sortProblems(problems),
    warnings: sortProblems(warnings),
  };
}

interface Helpers {
  at(position: Position, message: string): void;
  report(base: PathSegment[], issues: readonly z.core.$ZodIssue[], whole: string): void;
  read(path: PathSegment[], written: string, what: string): string | undefined;
}

function readAccounts(raw: unknown, source: YamlSource, h: Helpers): AccountDefinition[] {
  const out: AccountDefinition[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out; // reported by the top-level schema
  for (const [name, value] of Object.entries(raw)) {
    const base: PathSegment[] = ['accounts', name];
    const namePosition = source.locate(base, 'key');
    let ok = true;
    if (!NAME.test(name)) {
      h.at(namePosition, `account name ${JSON.stringify(name)} holds only letters (a-z, A-Z), digits, "-" and "_"`);
      ok = false;
    } else if ((PROVIDERS as readonly string[]).includes(name)) {
      h.at(namePosition, `account name ${JSON.stringify(name)} is reserved: it names the environment's account (${providerNamed(name as Provider).tokenVariable} …); choose another name`);
      ok = false;
    }
    const v = value as Record<string, unknown> | null;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      h.at(source.locate(base), `account ${name} must be a map of keys (provider, token, …)`);
      continue;
    }
    const providerName = v.provider;
    if (typeof providerName !== 'string' || !(PROVIDERS as readonly string[]).includes(providerName)) {
      const message =
        providerName === undefined
          ? `missing required key "provider": ${PROVIDERS.join(' or ')}`
          : `unknown provider ${JSON.stringify(providerName)}${(typeof providerName === 'string' ? didYouMean(providerName, PROVIDERS) : '') || `; expected one of ${PROVIDERS.join(', ')}`}`;
      h.at(providerName === undefined ? namePosition : source.locate([...base, 'provider']), message);
      continue;
    }
    const provider = providerNamed(providerName as Provider);
    const parsed = ACCOUNT_SCHEMAS.get(provider.name)!.safeParse(v, { reportInput: true });
    if (!parsed.success) {
      h.report(base, parsed.error.issues, `a ${provider.title} account`);
      ok = false;
    }
    const values: Record<string, string | undefined> = {};
    const variables: Record<string, string | undefined> = {};
    for (const key of provider.accountKeys) {
      const written = v[key.name];
      if (typeof written !== 'string') continue;
      variables[key.name] = key.secret ? variableOf(written) : undefined;
      const value = h.read([...base, key.name], written, `the ${key.name} of account ${name}`);
      const problem = value !== undefined && key.url ? baseUrlProblem(value) : undefined;
      if (problem !== undefined) {
        h.at(source.locate([...base, key.name]), problem);
        ok = false;
      }
      values[key.name] = value;
    }
    if (ok) out.push({ name, provider: provider.name, account: { values, variables }, position: namePosition });
  }
  return out;
}

function declaredAccounts(raw: unknown): Map<string, Provider> {
  const out = new Map<string, Provider>();
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return out;
  for (const [name, value] of Object.entries(raw)) {
    const provider = (value as { provider?: unknown } | null)?.provider;
    if (typeof provider === 'string' && (PROVIDERS as readonly string[]).includes(provider)) out.set(name, provider as Provider);
  }
  return out;
}

function isHttpUrl(s: string): boolean {
  return /^https?:\/\//i.test(s) && URL.canParse(s);
}

/** `${NAME}` → NAME (secrets are written as exactly one reference; the schema checked that). */
function variableOf(written: string): string {
  return written.replace(/^\$\{|\}$/g, '');
}
