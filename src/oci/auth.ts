/**
 * Registry authorization (distribution spec, "token authentication"): a request answered 401
 * carries `WWW-Authenticate`. `Bearer realm,service,scope` -> GET realm?service=&scope= (with
 * the docker-config credentials as Basic when there are some, anonymously otherwise) and use
 * the `token` (or `access_token`) it returns; `Basic` -> send the docker-config credentials.
 * What was obtained is kept per (registry, scope) for the client's life.
 */
import { BangerError } from '../model/index.js';
import { type AuthChallenge, parseWwwAuthenticate } from './challenge.js';
import { type Credentials, credentialsFor, type DockerAuths } from './dockerConfig.js';
import { denied, networkError } from './errors.js';
import { discard, httpGet, readCapped } from './http.js';
import { isBlockedAddress } from './netGuard.js';
import { type ImageRef, isLoopbackRegistry, registryShown } from './ref.js';

const TOKEN_CAP = 1 << 20;

/** The scope a pull needs on `repository` (what the token is asked for when the challenge names none). */
const pullScope = (repository: string) => `repository:${repository}:pull`;

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;

export class RegistryAuth {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly config: () => DockerAuths,
    private readonly insecure: boolean,
    private readonly userAgent: string,
    private readonly timeoutMs: number,
  ) {}

  private key(ref: ImageRef): string {
    return `${ref.registry}\n${pullScope(ref.repository)}`;
  }

  /** The Authorization value already obtained for `ref`'s registry and scope, if any. */
  headerFor(ref: ImageRef): string | undefined {
    return this.cache.get(this.key(ref));
  }

  /** Forgets what was obtained for `ref` (it was refused: expired token, changed password). */
  forget(ref: ImageRef): void {
    this.cache.delete(this.key(ref));
  }

  /**
   * Answers a 401's challenge for `ref`: obtains a token or picks credentials and caches the
   * header. Throws unauthorized when there is nothing to answer with.
   */
  async answer(
    ref: ImageRef,
    wwwAuthenticate: string | string[] | undefined,
    registryOrigin: string,
    signal?: AbortSignal,
  ): Promise<void> {
    const challenges = parseWwwAuthenticate(wwwAuthenticate);
    const cfg = this.config();
    const creds = credentialsFor(cfg, ref.registry);
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm);
    if (bearer) {
      const token = await this.token(ref, bearer, creds, registryOrigin, signal);
      this.cache.set(this.key(ref), `Bearer ${token}`);
      return;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (!creds) throw denied(ref, 'the registry wants a login and there are no credentials for it', cfg.usesHelper);
      this.cache.set(this.key(ref), basic(creds));
      return;
    }
    throw denied(
      ref,
      `HTTP 401 without a usable challenge (${JSON.stringify(String(wwwAuthenticate ?? '')).slice(0, 120)})`,
    );
  }

  /**
   * Where the realm may be (credentials travel there): https, or plain http with --insecure or
   * when both the registry and the realm are loopback. A remote registry's realm may not be this
   * host's loopback or link-local addresses (an IP literal is refused here; a name when connecting).
   */
  private realmUrl(ref: ImageRef, c: AuthChallenge, registryOrigin: string): { url: URL; guard: boolean } {
    let url: URL;
    try {
      url = new URL(c.params.realm!);
    } catch {
      throw denied(ref, `the token service address ${JSON.stringify(c.params.realm)} is not a URL`);
    }
    // Guarded unless the registry is loopback or the realm is the registry's own origin.
    const guard = !isLoopbackRegistry(ref.registry) && url.origin !== registryOrigin;
    if (guard && isBlockedAddress(url.hostname))
      throw new BangerError(
        'operation_failed',
        `${ref.text}: refusing the token service ${url.origin} named by ${registryShown(ref)}: it is this host's own or a link-local address`,
        { hint: 'a remote registry may not send banger to this host (loopback) or link-local addresses' },
      );
    const plainOk = this.insecure || (isLoopbackRegistry(ref.registry) && isLoopbackRegistry(url.host));
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && plainOk))
      throw new BangerError('bad_request', `${ref.text}: the registry's token service ${url.origin} is not https`, {
        hint: 'pass --insecure to allow a plain-http token service',
      });
    return { url, guard };
  }

  private async token(
    ref: ImageRef,
    c: AuthChallenge,
    creds: Credentials | null,
    registryOrigin: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const { url, guard } = this.realmUrl(ref, c, registryOrigin);
    if (c.params.service) url.searchParams.set('service', c.params.service);
    url.searchParams.set('scope', c.params.scope || pullScope(ref.repository));
    const headers: Record<string, string> = { 'user-agent': this.userAgent, accept: 'application/json' };
    if (creds) headers.authorization = basic(creds);
    let body: Buffer;
    try {
      const res = await httpGet(url, { headers, signal, timeoutMs: this.timeoutMs, guard });
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        discard(res);
        if (status === 401 || status === 403)
          throw denied(
            ref,
            `the token service ${url.origin} refused ${creds ? 'the credentials' : 'an anonymous token'} (HTTP ${status})`,
            this.config().usesHelper,
          );
        throw new BangerError(
          'operation_failed',
          `${ref.text}: the token service ${url.origin} answered HTTP ${status}`,
          {
            hint: 'retry later; if it persists the registry is failing',
          },
        );
      }
      body = await readCapped(res, TOKEN_CAP, () =>
        denied(ref, `the token service ${url.origin} sent more than ${TOKEN_CAP} bytes`),
      );
    } catch (e) {
      throw networkError(ref, url.host, e);
    }
    return tokenOf(ref, url, body);
  }
}

/** The token of a token service's JSON answer (`token`, or OAuth's `access_token`). */
function tokenOf(ref: ImageRef, url: URL, body: Buffer): string {
  let doc: { token?: unknown; access_token?: unknown };
  try {
    doc = JSON.parse(body.toString('utf8')) as typeof doc;
  } catch {
    throw denied(ref, `the token service ${url.origin} did not answer JSON`);
  }
  const token = typeof doc?.token === 'string' && doc.token ? doc.token : doc?.access_token;
  if (typeof token !== 'string' || token === '' || /[^\x21-\x7e]/.test(token))
    throw denied(ref, `the token service ${url.origin} returned no usable token`);
  return token;
}
