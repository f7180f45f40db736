import type { Client, Connection } from '@temporalio/client';
import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import type { ProcessTags } from '../db/process-tags';

/**
 * The platform's Temporal search attributes, so that staff find in the Web UI every process of a provider, a period,
 * a record, an enterprise or an objection (`QzProvider = 'QZ-GSJ'`, `QzRecordKeys = '…'`). They must be registered
 * in the namespace: the dev server that `npm start` runs is started with them, and for a cluster
 * `npm run temporal:search-attributes` adds what is missing (or `temporal operator search-attribute create`, README).
 * A process sets them only where the namespace has them all (`enableSearchAttributes`, checked at start): a server
 * refuses a start that names an attribute it does not know.
 */
export const SEARCH_ATTRIBUTES = {
  provider: defineSearchAttributeKey('QzProvider', SearchAttributeType.KEYWORD),
  period: defineSearchAttributeKey('QzPeriod', SearchAttributeType.KEYWORD),
  recordKeys: defineSearchAttributeKey('QzRecordKeys', SearchAttributeType.KEYWORD_LIST),
  subject: defineSearchAttributeKey('QzSubject', SearchAttributeType.KEYWORD),
  objectionId: defineSearchAttributeKey('QzObjectionId', SearchAttributeType.KEYWORD),
} as const;

const INDEXED = temporal.api.enums.v1.IndexedValueType;
const TYPE_OF = (k: (typeof SEARCH_ATTRIBUTES)[keyof typeof SEARCH_ATTRIBUTES]) =>
  k.type === SearchAttributeType.KEYWORD_LIST ? INDEXED.INDEXED_VALUE_TYPE_KEYWORD_LIST : INDEXED.INDEXED_VALUE_TYPE_KEYWORD;

let enabled = false;

async function registered(connection: Connection, namespace: string): Promise<Set<string>> {
  const r = await connection.operatorService.listSearchAttributes({ namespace });
  return new Set(Object.keys(r.customAttributes ?? {}));
}

/** Adds the attributes the namespace lacks; answers the names added. */
export async function registerSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const have = await registered(connection, namespace);
  const missing = Object.values(SEARCH_ATTRIBUTES).filter((k) => !have.has(k.name));
  if (missing.length)
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map((k) => [k.name, TYPE_OF(k)])),
    });
  return missing.map((k) => k.name);
}

/**
 * Turns the attributes on in this process when the namespace has them all; answers whether it does. A server that
 * cannot list them (the time-skipping test server) leaves them off.
 */
export async function enableSearchAttributes(client: Client): Promise<boolean> {
  try {
    const have = await registered(client.connection as Connection, client.options.namespace);
    enabled = Object.values(SEARCH_ATTRIBUTES).every((k) => have.has(k.name));
  } catch {
    enabled = false;
  }
  return enabled;
}

/** The attributes of a process with these tags, when they are on; undefined otherwise. */
export function searchAttributesOf(tags: ProcessTags | undefined): SearchAttributePair[] | undefined {
  if (!enabled || !tags) return undefined;
  const pairs: SearchAttributePair[] = [];
  if (tags.provider) pairs.push({ key: SEARCH_ATTRIBUTES.provider, value: tags.provider });
  if (tags.period) pairs.push({ key: SEARCH_ATTRIBUTES.period, value: tags.period });
  if (tags.recordKeys?.length) pairs.push({ key: SEARCH_ATTRIBUTES.recordKeys, value: tags.recordKeys });
  if (tags.subject) pairs.push({ key: SEARCH_ATTRIBUTES.subject, value: tags.subject });
  if (tags.objectionId) pairs.push({ key: SEARCH_ATTRIBUTES.objectionId, value: tags.objectionId });
  return pairs.length ? pairs : undefined;
}
