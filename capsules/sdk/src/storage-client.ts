/**
 * Client of the storage provider's methods (capsules/storage/README.md): files move in chunks of
 * at most CHUNK_BYTES, because one IPC frame carries at most 64 KiB (ipc.md §2). Each chunk is
 * one brokered, audited invoke, so it takes one use of the token.
 */

import { type Grant, invoke } from './capsule.js';
import { CapsuleError } from './errors.js';

export const CHUNK_BYTES = 32 * 1024;

interface ReadChunk {
  data: string;
  offset: number;
  size: number;
  eof: boolean;
}

export interface StorageOptions {
  provider?: string;
}

/** The file's bytes, chunk by chunk. */
export async function* readStream(
  resource: string,
  token: string | Grant,
  options: StorageOptions = {},
): AsyncGenerator<Buffer> {
  let offset = 0;
  for (;;) {
    const chunk = await invoke<ReadChunk>(options.provider ?? 'storage', 'read', resource, token, {
      offset,
      length: CHUNK_BYTES,
    });
    const data = Buffer.from(chunk.data, 'base64');
    offset += data.length;
    if (data.length > 0) yield data;
    if (chunk.eof) return;
    if (data.length === 0) throw new CapsuleError('E_INTERNAL', 'storage returned an empty chunk before the end');
  }
}

export async function readFile(resource: string, token: string | Grant, options: StorageOptions = {}): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of readStream(resource, token, options)) parts.push(part);
  return Buffer.concat(parts);
}

/** Writes a whole file from chunks; the file appears (atomically) only after the last one. */
export async function writeStream(
  resource: string,
  token: string | Grant,
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: StorageOptions = {},
): Promise<{ size: number }> {
  const provider = options.provider ?? 'storage';
  let offset = 0;
  let pending: Buffer = Buffer.alloc(0);
  const send = async (data: Buffer, done: boolean) => {
    await invoke(provider, 'write', resource, token, { offset, data: data.toString('base64'), done });
    offset += data.length;
  };
  for await (const chunk of chunks) {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length > CHUNK_BYTES) {
      await send(pending.subarray(0, CHUNK_BYTES), false);
      pending = pending.subarray(CHUNK_BYTES);
    }
  }
  await send(pending, true);
  return { size: offset };
}

export function writeFile(
  resource: string,
  token: string | Grant,
  data: Uint8Array,
  options: StorageOptions = {},
): Promise<{ size: number }> {
  return writeStream(resource, token, [data], options);
}

export interface ListEntry {
  name: string;
  size: number;
  dir: boolean;
}

export async function listFiles(
  resource: string,
  token: string | Grant,
  options: StorageOptions = {},
): Promise<ListEntry[]> {
  const r = await invoke<{ entries: ListEntry[] }>(options.provider ?? 'storage', 'list', resource, token);
  return r.entries;
}

export async function deleteFile(resource: string, token: string | Grant, options: StorageOptions = {}): Promise<void> {
  await invoke(options.provider ?? 'storage', 'delete', resource, token);
}
