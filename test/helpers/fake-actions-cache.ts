/**
 * GitHub's Actions cache, run locally: Azurite (the Azure Storage emulator, a child process) holds
 * the archives, and a small HTTP server on 127.0.0.1 answers the twirp calls `@actions/cache`
 * (service v2) makes, handing out SAS URLs into Azurite like the real service hands out Azure ones:
 *   - CreateCacheEntry: reserves key+version; a second reservation of the same pair fails (409
 *     already_exists), as GitHub's does — entries are immutable.
 *   - FinalizeCacheEntryUpload: checks the blob is there with the announced size, then commits.
 *   - GetCacheEntryDownloadURL: committed entries of the same version only; the key exactly, then
 *     keys it is a prefix of, then each restore key the same way (newest first), as documented for
 *     actions/cache.
 * Every call is recorded; `env()` gives the variables that point `@actions/cache` here.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BlobSASPermissions,
  BlobServiceClient,
  type ContainerClient,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';

const require = createRequire(import.meta.url);

/** Azurite's well-known development account (public, documented by Microsoft). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';
const CONTAINER = 'actions-cache';
const SERVICE = '/twirp/github.actions.results.api.v1.CacheService/';
const CACHE_TOKEN = 'fake-actions-runtime-token';

export interface CacheCall {
  method: 'CreateCacheEntry' | 'FinalizeCacheEntryUpload' | 'GetCacheEntryDownloadURL' | string;
  body: Record<string, unknown>;
  status: number;
  response: unknown;
}

export interface CacheEntry {
  id: number;
  key: string;
  version: string;
  blob: string;
  committed: boolean;
  sizeBytes?: number;
}

/** Starts Azurite's blob service on a free port; resolves with its URL once it listens. */
async function startAzurite(): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'rg-azurite-'));
  const child = spawn(
    process.execPath,
    [
      require.resolve('azurite/dist/src/blob/main.js'),
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      '0',
      '--inMemoryPersistence',
      '--extentMemoryLimit',
      '256',
      '--silent',
      '--skipApiVersionCheck',
      '--disableTelemetry',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`azurite did not start:\n${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /successfully listens on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`azurite exited with ${code}:\n${out}`));
    });
  });
  return { child, url, dir };
}

export class FakeActionsCache {
  readonly calls: CacheCall[] = [];
  readonly entries: CacheEntry[] = [];
  /** The next uploads get a URL into a container that does not exist, so the blob upload fails. */
  breakUploads = false;
  url = '';
  private nextId = 1;

  private constructor(
    private readonly azurite: { child: ChildProcess; url: string; dir: string },
    private readonly container: ContainerClient,
    private readonly server: Server,
  ) {}

  static async start(): Promise<FakeActionsCache> {
    const azurite = await startAzurite();
    const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
    const service = new BlobServiceClient(`${azurite.url}/${ACCOUNT}`, credential);
    const container = service.getContainerClient(CONTAINER);
    await container.create();
    const server = createServer();
    const fake = new FakeActionsCache(azurite, container, server);
    server.on('request', (req, res) => void fake.handle(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    return fake;
  }

  /** The variables a runner sets for cache service v2. */
  env(): Record<string, string> {
    return { ACTIONS_RESULTS_URL: this.url, ACTIONS_RUNTIME_TOKEN: CACHE_TOKEN, ACTIONS_CACHE_SERVICE_V2: 'true' };
  }

  callsTo(method: string): CacheCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Replaces the stored archive of a committed entry (what a corrupted or forged entry looks like). */
  async overwrite(key: string, bytes: Buffer): Promise<void> {
    const entry = this.entries.find((e) => e.key === key && e.committed);
    if (!entry) throw new Error(`no committed entry ${key}`);
    await this.container.getBlockBlobClient(entry.blob).uploadData(bytes);
  }

  /**
   * Rewrites one file inside a committed entry's archive (a tar, zstd- or gzip-compressed, whose
   * member names are relative to the saving run's workspace and may climb out of it with ../),
   * keeping every member name, so the archive still restores where the original did.
   */
  async editEntry(key: string, fileName: string, edit: (text: string) => string): Promise<void> {
    const archive = await this.download(key);
    const zstd = archive.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    const compress = zstd ? ['--use-compress-program', 'zstd'] : ['-z'];
    const work = mkdtempSync(join(tmpdir(), 'rg-cache-edit-'));
    try {
      writeFileSync(join(work, 'in.tar'), archive);
      const members = execFileSync('tar', ['-tf', join(work, 'in.tar'), ...compress, '-P'], { encoding: 'utf8' })
        .split('\n')
        .filter(Boolean);
      // Deep enough that every ../ in a member name stays inside `work`.
      const climb = Math.max(...members.map((m) => m.split('/').filter((p) => p === '..').length));
      const root = join(work, ...Array.from({ length: climb + 1 }, (_, i) => `d${i}`));
      mkdirSync(root, { recursive: true });
      execFileSync('tar', ['-xf', join(work, 'in.tar'), ...compress, '-P', '-C', root]);
      const target = members.find((m) => m.endsWith(`/${fileName}`));
      if (!target) throw new Error(`no ${fileName} in entry ${key}: ${members.join(', ')}`);
      const path = join(root, target);
      writeFileSync(path, edit(readFileSync(path, 'utf8')));
      writeFileSync(join(work, 'members.txt'), `${members.join('\n')}\n`);
      execFileSync('tar', [
        '--posix',
        '-cf',
        join(work, 'out.tar'),
        ...compress,
        '-P',
        '-C',
        root,
        '--no-recursion',
        '--files-from',
        join(work, 'members.txt'),
      ]);
      await this.overwrite(key, readFileSync(join(work, 'out.tar')));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** The stored archive of a committed entry. */
  async download(key: string): Promise<Buffer> {
    const entry = this.entries.find((e) => e.key === key && e.committed);
    if (!entry) throw new Error(`no committed entry ${key}`);
    return this.container.getBlockBlobClient(entry.blob).downloadToBuffer();
  }

  async close(): Promise<void> {
    await new Promise<void>((r) => this.server.close(() => r()));
    this.azurite.child.kill('SIGTERM');
    await new Promise((r) => this.azurite.child.once('exit', r));
    rmSync(this.azurite.dir, { recursive: true, force: true });
  }

  private sas(blob: string, permissions: string, container = CONTAINER): string {
    const credential = new StorageSharedKeyCredential(ACCOUNT, ACCOUNT_KEY);
    const query = generateBlobSASQueryParameters(
      {
        containerName: container,
        blobName: blob,
        permissions: BlobSASPermissions.parse(permissions),
        expiresOn: new Date(Date.now() + 3600_000),
      },
      credential,
    ).toString();
    return `${this.azurite.url}/${ACCOUNT}/${container}/${blob}?${query}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const method = (req.url ?? '').startsWith(SERVICE) ? (req.url ?? '').slice(SERVICE.length) : (req.url ?? '');
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      return this.reply(res, method, body, 400, { code: 'malformed', msg: 'body is not JSON' });
    }
    if (req.method !== 'POST' || !(req.url ?? '').startsWith(SERVICE)) {
      return this.reply(res, method, body, 404, { code: 'bad_route', msg: `no handler for ${req.method} ${req.url}` });
    }
    if (req.headers.authorization !== `Bearer ${CACHE_TOKEN}`) {
      return this.reply(res, method, body, 401, { code: 'unauthenticated', msg: 'invalid runtime token' });
    }
    const key = String(body.key ?? '');
    const version = String(body.version ?? '');
    if (!key || !version) {
      return this.reply(res, method, body, 400, { code: 'invalid_argument', msg: 'key and version are required' });
    }
    try {
      switch (method) {
        case 'CreateCacheEntry': {
          if (this.entries.some((e) => e.key === key && e.version === version)) {
            return this.reply(res, method, body, 409, {
              code: 'already_exists',
              msg: 'cache entry with the same key, version, and scope already exists',
            });
          }
          const id = this.nextId++;
          const entry: CacheEntry = { id, key, version, blob: `entry-${id}`, committed: false };
          this.entries.push(entry);
          const url = this.breakUploads ? this.sas(entry.blob, 'cw', 'no-such-container') : this.sas(entry.blob, 'cw');
          return this.reply(res, method, body, 200, { ok: true, signed_upload_url: url });
        }
        case 'FinalizeCacheEntryUpload': {
          const entry = this.entries.find((e) => e.key === key && e.version === version && !e.committed);
          if (!entry) return this.reply(res, method, body, 404, { code: 'not_found', msg: 'no reserved cache entry' });
          const size = Number(body.size_bytes ?? body.sizeBytes);
          const props = await this.container
            .getBlockBlobClient(entry.blob)
            .getProperties()
            .catch(() => undefined);
          if (!props || props.contentLength !== size) {
            return this.reply(res, method, body, 200, {
              ok: false,
              message: 'uploaded archive is missing or has the wrong size',
            });
          }
          entry.committed = true;
          entry.sizeBytes = size;
          return this.reply(res, method, body, 200, { ok: true, entry_id: String(entry.id) });
        }
        case 'GetCacheEntryDownloadURL': {
          const restoreKeys = (body.restore_keys ?? body.restoreKeys ?? []) as string[];
          const entry = this.lookup(version, [key, ...restoreKeys]);
          if (!entry) return this.reply(res, method, body, 200, { ok: false });
          return this.reply(res, method, body, 200, {
            ok: true,
            signed_download_url: this.sas(entry.blob, 'r'),
            matched_key: entry.key,
          });
        }
        default:
          return this.reply(res, method, body, 404, { code: 'bad_route', msg: `unknown method ${method}` });
      }
    } catch (err) {
      return this.reply(res, method, body, 500, { code: 'internal', msg: String(err) });
    }
  }

  /** For each key in order: the exact key, else the newest entry whose key starts with it. */
  private lookup(version: string, keys: string[]): CacheEntry | undefined {
    const candidates = this.entries.filter((e) => e.committed && e.version === version).reverse();
    for (const k of keys) {
      const hit = candidates.find((e) => e.key === k) ?? candidates.find((e) => e.key.startsWith(k));
      if (hit) return hit;
    }
    return undefined;
  }

  private reply(res: ServerResponse, method: string, body: Record<string, unknown>, status: number, out: unknown) {
    this.calls.push({ method, body, status, response: out });
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  }
}
